package model

import (
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/spec"
)

const sloSpec = `version: redline/v1
service: api
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{code=~"5.."}
    total: http_requests_total
    threshold: 0.1%
slos:
  - name: availability
    signal: errors
    objective: 99.9%
  - name: strict
    signal: errors
    objective: 99.99%
    windows: [{long: 3d, short: 6h, factor: 1, severity: info}]
alertmanager:
  webhook_url: http://localhost/hook
`

// TestBudgetsPrintExactly: 1 - 0.999 is 0.0010000000000000009 in floats;
// rulegen computes with rationals and prints what the spec means.
// mustBuild loads a spec from text and builds its model.
func mustBuild(t *testing.T, name, text string) *Model {
	t.Helper()
	s, err := spec.Load(name, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(s, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBudgetsPrintExactly(t *testing.T) {
	m := mustBuild(t, "slo.yml", sloSpec)
	var exprs []string
	for _, a := range m.Alerts {
		exprs = append(exprs, a.Expr+" "+a.Annotations["description"])
	}
	all := strings.Join(exprs, "\n")
	for _, want := range []string{"> 0.0144", "> 0.006", "> 0.003", "> 0.0001", "(14.4 × the 0.1% error budget)", "(1 × the 0.01% error budget)"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "000000") {
		t.Errorf("float artefact in:\n%s", all)
	}
	if got := m.Alerts[1].Expr; !strings.Contains(got, "service:availability:error_ratio_rate6h > 0.006") {
		t.Errorf("6h window: %s", got)
	}
}

func TestQuantileName(t *testing.T) {
	for in, want := range map[string]string{"0.95": "p95", "0.99": "p99", "0.999": "p99_9", "0.5": "p50"} {
		q, _ := spec.ParseQuantity(in)
		if got := QuantileName(q); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// TestGuardJoinsBeforeAggregation: the guard filters the per-series values,
// so the aggregation only sees series for which it holds.
func TestGuardJoinsBeforeAggregation(t *testing.T) {
	const guarded = `version: redline/v1
service: api
signals:
  - name: growth
    kind: gauge
    metric: mem{job="api"}
    function: deriv
    window: 30m
    per: hour
    threshold: 1
    guard: {expr: 'time() - start{job="api"} > 1800', on: [instance, job]}
  - name: cpu
    kind: gauge
    metric: cpu_total
    function: rate
    by: [pod]
    threshold: 1
    guard: {expr: up == 1, on: [pod]}
  - name: skew
    kind: gauge
    metric: skew
    function: max_abs
    threshold: 1
    guard: {expr: up == 1, on: [instance]}
alertmanager:
  webhook_url: http://localhost/hook
`
	m := mustBuild(t, "guard.yml", guarded)
	want := map[string]string{
		"service:growth:deriv30m": `max(deriv(mem{job="api"}[30m]) and on(instance, job) (time() - start{job="api"} > 1800))`,
		"pod:cpu:rate5m":          `sum by (pod) (rate(cpu_total[5m]) and on(pod) (up == 1))`,
		"service:skew:max_abs":    `max(abs(skew) and on(instance) (up == 1))`,
	}
	for _, r := range m.Recordings {
		if w, ok := want[r.Record]; ok && r.Expr != w {
			t.Errorf("%s:\n got %s\nwant %s", r.Record, r.Expr, w)
		}
		delete(want, r.Record)
	}
	for r := range want {
		t.Errorf("no recording rule %s", r)
	}
	if got := m.Signals[0].Value; got != "service:growth:deriv30m * 3600" {
		t.Errorf("value %s", got)
	}
}
