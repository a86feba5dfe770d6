package model

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/spec"
)

// readsRecorded lists the recorded series an expression reads.
func readsRecorded(t *testing.T, m *Model, expr string) []string {
	t.Helper()
	e, err := spec.Parser.ParseExpr(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var out []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && m.recording(vs.Name) != nil {
			out = append(out, vs.Name)
		}
		return nil
	})
	return out
}

// TestBudgetAndBurnReadNoChain: vmalert reads every rule's inputs back
// from storage, so a rule that read another rule of its own group saw
// that rule's previous evaluation (or nothing on the first) — the good
// rate one sample short of the count, and a false freeze on healthy data.
// Every rule of the SLO group reads only scraped series or the recording
// group's rules, and every recording they read is computed from scraped
// series.
func TestBudgetAndBurnReadNoChain(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*Model{"platform": buildOrFail(t, s), "budget": mustBuild(t, "budget.yml", strings.Replace(budgetSpec, "PERIOD", "28d", 1))} {
		if got := m.Groups(); len(got) != 3 || got[1] != m.SLOGroup() {
			t.Fatalf("%s: groups %v, want the recordings, the SLOs and the alerts", name, got)
		}
		slo := map[string]bool{}
		for _, r := range m.GroupRecordings(m.SLOGroup()) {
			slo[r.Record] = true
		}
		if len(slo) == 0 {
			t.Fatalf("%s: no SLO recordings", name)
		}
		for _, r := range m.GroupRecordings(m.SLOGroup()) {
			for _, in := range readsRecorded(t, m, r.Expr) {
				if slo[in] {
					t.Errorf("%s: %s reads %s of its own group", name, r.Record, in)
					continue
				}
				if deeper := readsRecorded(t, m, m.recording(in).Expr); len(deeper) > 0 {
					t.Errorf("%s: %s reads %s, which reads %v of the same group", name, r.Record, in, deeper)
				}
			}
		}
		for _, a := range m.Alerts {
			if a.Burn == nil && a.Budget == nil {
				continue
			}
			for _, in := range readsRecorded(t, m, a.Expr) {
				if !slo[in] && len(readsRecorded(t, m, m.recording(in).Expr)) > 0 {
					t.Errorf("%s: alert %s reads %s, a chained recording", name, a.Name, in)
				}
			}
		}
	}
}

func buildOrFail(t *testing.T, s *spec.Spec) *Model {
	t.Helper()
	m, err := Build(s, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestErrorRatesWithoutErrorSeries: every error rate a ratio records falls
// back to 0 × the requests with the same labels, so a service (or a
// track) that never failed reads 0 errors instead of nothing.
func TestErrorRatesWithoutErrorSeries(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m := buildOrFail(t, s)
	n := 0
	for _, sig := range m.Signals {
		if sig.Kind != spec.KindRatio {
			continue
		}
		for _, r := range m.Recordings {
			if !strings.HasSuffix(r.Record, ":"+sig.Name+"_errors:rate"+sig.Window.String()) {
				continue
			}
			n++
			by := ""
			if strings.HasPrefix(r.Record, m.Canary.Label+":") {
				by = " by (" + m.Canary.Label + ")"
			}
			want := "sum" + by + " (rate(" + sig.Signal.Errors + "[5m])) or 0 * sum" + by + " (rate(" + sig.Signal.Total + "[5m]))"
			want = strings.ReplaceAll(want, "sum (", "sum(")
			if r.Expr != want {
				t.Errorf("%s = %s\nwant %s", r.Record, r.Expr, want)
			}
		}
	}
	if n < 4 {
		t.Errorf("found %d error rates, want the service's and the tracks' of every ratio", n)
	}
}

// TestCanaryTrafficWarning: a canary comparison whose min_rate needs more
// traffic than a small step carries is warned about, naming the total it
// needs per step; without min_rate there is nothing to warn about.
func TestCanaryTrafficWarning(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m := buildOrFail(t, s)
	var found bool
	for _, w := range m.Warnings {
		msg := w.Error()
		if strings.Contains(msg, "HttpErrorsCanaryWorse") {
			found = true
			for _, want := range []string{"signals[1].min_rate", "min_rate 0.5/s", "50/s at 1%", "10/s at 5%", "Set min_rate"} {
				if !strings.Contains(msg, want) {
					t.Errorf("warning lacks %q: %s", want, msg)
				}
			}
			if w.Pos.Line == 0 {
				t.Errorf("warning without a position: %s", msg)
			}
		}
	}
	if !found {
		t.Fatalf("no warning for HttpErrorsCanaryWorse: %v", m.Warnings)
	}
	for i := range s.Signals {
		s.Signals[i].MinRate = nil
	}
	if m := buildOrFail(t, s); len(m.Warnings) > 0 {
		t.Errorf("warnings without min_rate: %v", m.Warnings)
	}
}
