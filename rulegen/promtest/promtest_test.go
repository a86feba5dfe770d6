package promtest

import (
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

func buildModel(t *testing.T, s *spec.Spec, err error) *model.Model {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCoverage holds the generator to its promise: every alert has a test
// where it fires and one where it stays silent without traffic, and every
// recording rule is checked by a promql_expr_test.
func TestCoverage(t *testing.T) {
	s, err := spec.LoadFile("../testdata/golden/basic.spec.yml")
	golden := buildModel(t, s, err)
	s, err = spec.Default()
	platform := buildModel(t, s, err)
	for name, m := range map[string]*model.Model{"golden": golden, "platform": platform} {
		t.Run(name, func(t *testing.T) {
			f, err := Generate(m, "x.rules.yml")
			if err != nil {
				t.Fatal(err)
			}
			fires, silentIdle, silentGuard := map[string]bool{}, map[string]bool{}, map[string]bool{}
			lowTraffic, firstIncrement := map[string]bool{}, map[string]bool{}
			silentPresent, firesGone, firesLow := map[string]bool{}, map[string]bool{}, map[string]bool{}
			exprs := map[string]bool{}
			for _, g := range f.Tests {
				for _, at := range g.AlertRuleTests {
					if len(at.ExpAlerts) > 0 {
						fires[at.Alertname] = true
					} else if strings.Contains(g.Name, "no traffic") {
						silentIdle[at.Alertname] = true
					} else if strings.Contains(g.Name, "guard does not hold") {
						silentGuard[at.Alertname] = true
					} else if strings.Contains(g.Name, at.Alertname+": silent while") && strings.HasSuffix(g.Name, "is present") {
						silentPresent[at.Alertname] = true
					}
					if len(at.ExpAlerts) > 0 && strings.Contains(g.Name, at.Alertname+": fires") && strings.HasSuffix(g.Name, "disappears") {
						firesGone[at.Alertname] = true
					}
					if len(at.ExpAlerts) > 0 && strings.Contains(g.Name, at.Alertname+": fires at") && strings.Contains(g.Name, "below min_rate") {
						firesLow[at.Alertname] = true
					}
					if strings.Contains(g.Name, at.Alertname+": silent below min_rate") {
						lowTraffic[at.Alertname] = true
					}
					if len(at.ExpAlerts) > 0 && strings.Contains(g.Name, at.Alertname+": fires when") && strings.Contains(g.Name, "first appears at 1") {
						firstIncrement[at.Alertname] = true
					}
				}
				for _, e := range g.ExprTests {
					// round(<record> * 1e+06) / 1e+06
					exprs[strings.Fields(strings.TrimPrefix(e.Expr, "round("))[0]] = true
				}
			}
			for _, a := range m.Alerts {
				if !fires[a.Name] {
					t.Errorf("alert %s has no test where it fires", a.Name)
				}
				if a.Absent != nil {
					// Without data an absent alert fires; it is silent
					// while the series are there.
					if !silentPresent[a.Name] {
						t.Errorf("alert %s has no test where its series are present", a.Name)
					}
					if !firesGone[a.Name] {
						t.Errorf("alert %s has no test where its series disappear", a.Name)
					}
					continue
				}
				if c := a.NoData; c != nil {
					// A missing SLI fires when its series disappear or its
					// traffic is below min_rate, never while it has traffic.
					if !silentPresent[a.Name] || !firesGone[a.Name] {
						t.Errorf("alert %s has no test where its series are present and one where they disappear", a.Name)
					}
					if c.MinRate != nil && !firesLow[a.Name] {
						t.Errorf("alert %s has no test below its SLO's min_rate", a.Name)
					}
					continue
				}
				if !silentIdle[a.Name] {
					t.Errorf("alert %s has no test without traffic", a.Name)
				}
				for _, c := range a.Conditions {
					if c.Signal.Guard != nil && !silentGuard[a.Name] {
						t.Errorf("alert %s has no test where the guard of %s does not hold", a.Name, c.Signal.Name)
					}
					if c.FirstIncrement && !firstIncrement[a.Name] {
						t.Errorf("alert %s has no test where %s first appears above 0", a.Name, c.Signal.Name)
					}
				}
				if a.Burn != nil && a.Burn.MinRate != nil && !lowTraffic[a.Name] {
					t.Errorf("alert %s has no test below its SLO's min_rate", a.Name)
				}
			}
			for _, r := range m.Recordings {
				if !exprs[r.Record] {
					t.Errorf("recording rule %s has no promql_expr_test", r.Record)
				}
			}
		})
	}
}

func TestLeMatcherAcceptsBothPrometheusSpellings(t *testing.T) {
	for bound, spellings := range map[string][]string{
		"0.2":   {"0.2", "0.20", "0.200"},
		"1":     {"1", "1.0", "1.00"},
		"0.05":  {"0.05", "0.050"},
		"2.5":   {"2.5", "2.50"},
		"10":    {"10", "10.0"},
		"0.001": {"0.001"},
	} {
		m := model.LeMatcher(bound)
		for _, s := range spellings {
			if !m.Matches(s) {
				t.Errorf("%s does not match le=%q", m, s)
			}
		}
		for _, s := range []string{"0.25", "12", "1.5", "0.02", "+Inf", "2"} {
			if s != bound && m.Matches(s) && !contains(spellings, s) {
				t.Errorf("%s matches the wrong bucket le=%q", m, s)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestHumanizeMatchesPrometheus(t *testing.T) {
	for _, c := range []struct {
		unit, per string
		v         float64
		want      string
	}{
		{"seconds", "", 0.3, "300ms"},
		{"seconds", "", 33, "33s"},
		{"seconds", "", 0.19487179487179487, "194.9ms"},
		{"ratio", "", 0.011000000000000001, "1.1%"},
		{"per_minute", "", 0.55, "550m/min"},
		{"per_second", "", 0.21666666666666667, "216.7m/s"},
		{"none", "", 1500, "1.5k"},
		{"bytes", "", 2048, "2kiB"},
		{"bytes", "hour", 54525952, "52MiB/h"},
		{"ratio", "hour", 0.22, "22%/h"},
	} {
		sig := &model.Signal{Signal: &spec.Signal{Unit: c.unit, Per: c.per}}
		if got := formatValue(sig, c.v); got != c.want {
			t.Errorf("formatValue(%s, %v) = %q, want %q", c.unit, c.v, got, c.want)
		}
	}
}
