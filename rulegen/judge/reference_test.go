package judge

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestReference compares the judge with values computed apart from it
// (testdata/make_reference.py: scipy's mannwhitneyu and levene, R's
// definitions of the interval written again in Python): U, p, the
// estimate and the interval within 1e-6.
func TestReference(t *testing.T) {
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Name          string    `json:"name"`
			Canary        []float64 `json:"canary"`
			Baseline      []float64 `json:"baseline"`
			Confidence    float64   `json:"confidence"`
			Method        string    `json:"method"`
			U, P          float64
			Estimate      float64 `json:"estimate"`
			Lower, Upper  float64
			BrownForsythe *struct{ F, P float64 } `json:"brown_forsythe"`
			CountTest     *struct {
				AllowedIncrease float64 `json:"allowed_increase"`
				AllowedDecrease float64 `json:"allowed_decrease"`
				PHigher         float64 `json:"p_higher"`
				PLower          float64 `json:"p_lower"`
			} `json:"count"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 10 {
		t.Fatalf("%d cases", len(ref.Cases))
	}
	near := func(t *testing.T, what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("%s = %.12g, reference %.12g", what, got, want)
		}
	}
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			mw := MannWhitneyTest(c.Canary, c.Baseline, c.Confidence)
			if mw.Method != c.Method {
				t.Errorf("method %s, reference %s", mw.Method, c.Method)
			}
			near(t, "U", mw.U, c.U)
			near(t, "p", mw.P, c.P)
			near(t, "estimate", mw.Estimate, c.Estimate)
			near(t, "lower", mw.Lower, c.Lower)
			near(t, "upper", mw.Upper, c.Upper)
			if c.BrownForsythe != nil {
				d := BrownForsythe(c.Canary, c.Baseline)
				near(t, "Brown-Forsythe F", float64(d.F), c.BrownForsythe.F)
				near(t, "Brown-Forsythe p", d.P, c.BrownForsythe.P)
			}
			if c.CountTest != nil {
				r := CountTest(c.Canary, c.Baseline, c.CountTest.AllowedIncrease, c.CountTest.AllowedDecrease)
				near(t, "P(higher)", r.PHigher, c.CountTest.PHigher)
				near(t, "P(lower)", r.PLower, c.CountTest.PLower)
			}
		})
	}
}
