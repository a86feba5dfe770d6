package model

import (
	"testing"
)

// TestLatencyGuardJoinsBeforeAggregation: a latency signal's guard filters
// the per-series bucket and count rates, so a starved prober's durations
// never reach the service-level quantile, its good share or its traffic.
func TestLatencyGuardJoinsBeforeAggregation(t *testing.T) {
	const guarded = `version: redline/v1
service: api
signals:
  - name: lag
    kind: latency
    histogram: probe_seconds{job="exp"}
    quantile: 0.95
    threshold: 50ms
    bucket: true
    guard: {expr: 'histogram_quantile(0.95, sum by (instance, job, le) (rate(timer_seconds_bucket{job="exp"}[5m]))) <= 0.01', on: [instance, job]}
alertmanager:
  webhook_url: http://localhost/hook
`
	m := mustBuild(t, "guard.yml", guarded)
	guard := ` and on(instance, job) (histogram_quantile(0.95, sum by (instance, job, le) (rate(timer_seconds_bucket{job="exp"}[5m]))) <= 0.01)`
	want := map[string]string{
		"service:lag_bucket:rate5m": `sum by (le) (rate(probe_seconds_bucket{job="exp"}[5m])` + guard + `)`,
		"service:lag_count:rate5m":  `sum(rate(probe_seconds_count{job="exp"}[5m])` + guard + `)`,
		"service:lag:p95_rate5m":    `histogram_quantile(0.95, service:lag_bucket:rate5m)`,
		"service:lag_good:rate5m":   `sum(rate(probe_seconds_bucket{job="exp", le=~"0[.]050*"}[5m])` + guard + `)`,
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
}
