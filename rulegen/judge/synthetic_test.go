package judge

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

func lognormal(r *rand.Rand, n int, median, sigma float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = median * math.Exp(sigma*r.NormFloat64())
	}
	return v
}

// rate is the share of runs classified other than Pass.
func rate(seed uint64, runs int, cfg Config, gen func(r *rand.Rand) (canary, baseline []float64)) (float64, map[string]int) {
	r := rand.New(rand.NewPCG(seed, 1))
	flagged := 0
	by := map[string]int{}
	for i := 0; i < runs; i++ {
		x, y := gen(r)
		res := Classify(x, y, cfg)
		if res.Classification != Pass {
			flagged++
			by[res.DecidedBy]++
		}
	}
	return float64(flagged) / float64(runs), by
}

// Latency samples: one value per step (a step's quantile or mean),
// lognormal around 200 ms with a log-sd of 0.2: step-to-step values within
// about ±20 %. (Single requests spread far more; a judge reads steps.)
const latSigma = 0.2

// TestSyntheticAA: two samples of the same distribution must pass; over
// 1,000 seeded runs of 60 samples a side at most 2 % may not.
func TestSyntheticAA(t *testing.T) {
	for _, dir := range []Direction{Increase, Either} {
		fp, by := rate(1, 1000, Config{Direction: dir}, func(r *rand.Rand) ([]float64, []float64) {
			return lognormal(r, 60, 0.2, latSigma), lognormal(r, 60, 0.2, latSigma)
		})
		t.Logf("A/A direction %s: false-positive rate %.1f%% %v", dir, 100*fp, by)
		if fp > 0.02 {
			t.Errorf("A/A direction %s: false-positive rate %.1f%%, want <= 2%%", dir, 100*fp)
		}
	}
}

// TestSyntheticPower: a canary whose median is 20 % higher must be High
// in at least 95 % of 1,000 runs of 60 samples a side.
func TestSyntheticPower(t *testing.T) {
	power, by := rate(2, 1000, Config{Direction: Increase}, func(r *rand.Rand) ([]float64, []float64) {
		return lognormal(r, 60, 0.24, latSigma), lognormal(r, 60, 0.2, latSigma)
	})
	t.Logf("+20%% median: power %.1f%% %v", 100*power, by)
	if power < 0.95 {
		t.Errorf("+20%% median: power %.1f%%, want >= 95%%", 100*power)
	}
	// Not asserted: how the power falls with noisier steps (300 runs each).
	for _, sigma := range []float64{0.1, 0.25, 0.3, 0.5} {
		p, _ := rate(3, 300, Config{Direction: Increase}, func(r *rand.Rand) ([]float64, []float64) {
			return lognormal(r, 60, 0.24, sigma), lognormal(r, 60, 0.2, sigma)
		})
		t.Logf("+20%% median, log-sd %.2f: power %.1f%%", sigma, 100*p)
	}
}

// TestSyntheticSpread: the same median with three times the log-sd
// (Kayenta #780) is High — by the dispersion test, which the rank test
// alone (Kayenta's classifier) mostly misses.
func TestSyntheticSpread(t *testing.T) {
	gen := func(r *rand.Rand) ([]float64, []float64) {
		return lognormal(r, 60, 0.2, 3*latSigma), lognormal(r, 60, 0.2, latSigma)
	}
	high, by := rate(4, 200, Config{Direction: Increase}, gen)
	kayenta, _ := rate(4, 200, Config{Direction: Increase, MannWhitneyOnly: true}, gen)
	t.Logf("spread x3: High in %.1f%% %v; rank test alone %.1f%%", 100*high, by, 100*kayenta)
	if high < 0.95 {
		t.Errorf("spread x3: High in %.1f%% of runs, want >= 95%%", 100*high)
	}
	if kayenta > 0.5 {
		t.Errorf("the rank test alone finds %.1f%%: the case no longer shows what it should", 100*kayenta)
	}
}

// TestSparseErrors: Kayenta #426 — errors [0,1,2,1,0,0] in the canary
// against none in the baseline are High for an event count.
func TestSparseErrors(t *testing.T) {
	canary := []float64{0, 1, 2, 1, 0, 0}
	baseline := []float64{0, 0, 0, 0, 0, 0}
	r := Classify(canary, baseline, Config{Name: "errors", Type: Count, Direction: Increase})
	if r.Classification != High || r.DecidedBy != ByCount {
		t.Fatalf("got %s by %s (%s), want High by the count test", r.Classification, r.DecidedBy, r.Reason)
	}
	if only := Classify(canary, baseline, Config{Type: Count, Direction: Increase, MannWhitneyOnly: true}); only.Classification != Pass {
		t.Fatalf("the rank test alone: %s; Kayenta passes this case", only.Classification)
	}
	// The same counts the other way round are not High, and equal counts
	// pass.
	if r := Classify(baseline, canary, Config{Type: Count, Direction: Increase}); r.Classification != Pass {
		t.Fatalf("fewer canary errors: %s", r.Classification)
	}
	if r := Classify([]float64{0, 1, 0, 0, 1, 0}, []float64{1, 0, 0, 1, 0, 0}, Config{Type: Count, Direction: Increase}); r.Classification != Pass {
		t.Fatalf("equal counts: %s (%s)", r.Classification, r.Reason)
	}
}

// TestSyntheticCountAA: equal Poisson rates rarely look different.
func TestSyntheticCountAA(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 1))
	poisson := func(n int, lambda float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			// Knuth's method; lambda is small.
			l, k, p := math.Exp(-lambda), 0.0, 1.0
			for p *= r.Float64(); p > l; p *= r.Float64() {
				k++
			}
			v[i] = k
		}
		return v
	}
	flagged := 0
	for i := 0; i < 1000; i++ {
		if Classify(poisson(60, 0.3), poisson(60, 0.3), Config{Type: Count, Direction: Increase}).Classification != Pass {
			flagged++
		}
	}
	// One-sided at 98 %: about 2 %; Jeffreys' posterior is not an exact
	// test, so allow for its wobble around the nominal level.
	t.Logf("count A/A: false-positive rate %.1f%%", float64(flagged)/10)
	if flagged > 30 {
		t.Errorf("count A/A: %d of 1000 flagged, want <= 3%%", flagged)
	}
}

// TestNoData: no samples, only NaN, and fewer than the minimum are NoData
// — never Pass — and so is a run with half its metrics so.
func TestNoData(t *testing.T) {
	nan := math.NaN()
	good := []float64{1, 2, 3, 4, 5, 6}
	for name, c := range map[string]struct {
		canary, baseline []float64
		cfg              Config
	}{
		"empty both":            {nil, nil, Config{}},
		"empty canary":          {nil, good, Config{}},
		"empty baseline":        {good, []float64{}, Config{}},
		"all NaN":               {[]float64{nan, nan, nan, nan, nan, nan}, good, Config{}},
		"infinite":              {[]float64{math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1)}, good, Config{}},
		"too few":               {[]float64{1, 2, 3, 4}, good, Config{}},
		"too few for min 10":    {good, good[:5], Config{MinSamples: 10}},
		"NaN leaves too few":    {[]float64{1, nan, 2, nan, 3, nan}, good, Config{}},
		"empty count":           {nil, good, Config{Type: Count}},
		"replace, both empty":   {nil, nil, Config{NaN: Replace}},
		"both all NaN, remove":  {[]float64{nan, nan}, []float64{nan}, Config{}},
		"unknown direction":     {good, good, Config{Direction: "up"}},
		"confidence 98 (not %)": {good, good, Config{Confidence: 98}},
	} {
		r := Classify(c.canary, c.baseline, c.cfg)
		if r.Classification != NoData || r.Reason == "" {
			t.Errorf("%s: %s (%q), want NoData with a reason", name, r.Classification, r.Reason)
		}
	}
	if r := Classify(good[:5], good, Config{}); r.Classification == NoData {
		t.Errorf("five samples a side: %s, want judged", r.Classification)
	}

	pass := Input{Config: Config{Name: "ok"}, Canary: good, Baseline: good}
	missing := Input{Config: Config{Name: "gone"}, Canary: nil, Baseline: good}
	run := Judge([]Input{pass, missing}, Thresholds{}, nil)
	if run.Verdict != VerdictNoData || run.Score != 0 {
		t.Fatalf("half without data: %s %v, want NoData 0", run.Verdict, run.Score)
	}
	run = Judge([]Input{pass, pass, missing}, Thresholds{}, nil)
	if run.Verdict != VerdictPass || run.Score != 100 {
		t.Fatalf("a third without data: %s %v, want Pass 100", run.Verdict, run.Score)
	}
	crit := missing
	crit.Config.Critical = true
	if run := Judge([]Input{pass, pass, crit}, Thresholds{}, nil); run.Verdict != VerdictNoData {
		t.Fatalf("critical metric without data: %s, want NoData", run.Verdict)
	}
	failed := Input{Config: Config{Name: "query"}, Err: errTest("query failed: timeout")}
	run = Judge([]Input{failed}, Thresholds{}, nil)
	if run.Verdict != VerdictNoData || run.Metrics[0].Reason != "query failed: timeout" {
		t.Fatalf("failed query: %s %q", run.Verdict, run.Metrics[0].Reason)
	}
	if run := Judge(nil, Thresholds{}, nil); run.Verdict != VerdictNoData {
		t.Fatalf("no metrics: %s", run.Verdict)
	}
}

// TestResultJSON: every result encodes, infinities and NaN as null (a
// baseline without spread, a zero mean).
func TestResultJSON(t *testing.T) {
	run := Judge([]Input{
		{Config: Config{Name: "flat baseline"}, Canary: []float64{0, 2, 0, 2, 0, 2}, Baseline: []float64{0, 0, 0, 0, 0, 0}},
		{Config: Config{Name: "none"}},
	}, Thresholds{}, nil)
	if r := run.Metrics[0]; r.Dispersion == nil || !math.IsInf(float64(r.Dispersion.F), 1) {
		t.Fatalf("want an infinite F: %+v", r.Dispersion)
	}
	if _, err := json.Marshal(run); err != nil {
		t.Fatal(err)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

// TestRunVerdict: the weighted score and its thresholds, and a critical
// High failing the run alone.
func TestRunVerdict(t *testing.T) {
	same := []float64{1, 2, 3, 4, 5, 6, 7, 8}
	high := []float64{21, 22, 23, 24, 25, 26, 27, 28}
	in := func(name string, canary []float64, weight float64, critical bool) Input {
		return Input{Config: Config{Name: name, Weight: weight, Critical: critical, Direction: Increase}, Canary: canary, Baseline: same}
	}
	for _, c := range []struct {
		name    string
		inputs  []Input
		score   float64
		verdict Verdict
	}{
		{"all pass", []Input{in("a", same, 1, false), in("b", same, 1, false)}, 100, VerdictPass},
		{"one of two high", []Input{in("a", same, 1, false), in("b", high, 1, false)}, 50, VerdictFail},
		{"light high", []Input{in("a", same, 9, false), in("b", high, 1, false)}, 90, VerdictMarginal},
		{"lighter high", []Input{in("a", same, 19, false), in("b", high, 1, false)}, 95, VerdictPass},
		{"critical high", []Input{in("a", same, 99, false), in("b", high, 1, true)}, 0, VerdictFail},
	} {
		run := Judge(c.inputs, Thresholds{}, nil)
		if run.Score != c.score || run.Verdict != c.verdict {
			t.Errorf("%s: %v %s, want %v %s", c.name, run.Score, run.Verdict, c.score, c.verdict)
		}
	}
}
