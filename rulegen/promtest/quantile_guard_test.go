package promtest

import (
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

const quantileGuardSpec = `version: redline/v1
service: api
signals:
  - name: lag
    kind: latency
    histogram: probe_seconds{job="exp", probe="api"}
    quantile: 0.95
    threshold: 50ms
    bucket: true
    guard:
      expr: GUARD
      on: [instance, job]
alertmanager:
  webhook_url: http://localhost/hook
`

func quantileGuardSignal(t *testing.T, guard string) *model.Signal {
	t.Helper()
	s, err := spec.Load("guard.yml", []byte(strings.Replace(quantileGuardSpec, "GUARD", guard, 1)))
	return buildModel(t, s, err).Signals[0]
}

// TestQuantileGuardInput: the guard's histogram puts 97.5% of its ticks
// within 10ms while the guard must hold (P95 ≈ 9.7ms) and 90% when it must
// fail (P95 15ms), on the instance and job of the signal's series.
func TestQuantileGuardInput(t *testing.T) {
	sig := quantileGuardSignal(t, `histogram_quantile(0.95, sum by (instance, job, le) (rate(lag_seconds_bucket{job="exp"}[5m]))) <= 0.01`)
	for _, c := range []struct {
		st   state
		want string
	}{{firing, "0+585x20"}, {unmet, "0+540x20"}} {
		in := newInput()
		if err := signalInput(in, sig, *sig.Threshold, c.st, 20); err != nil {
			t.Fatal(err)
		}
		if got := in.series[`lag_seconds_bucket{instance="test", job="exp", le="0.01"}`]; got != c.want {
			t.Errorf("%s: le=0.01 bucket %q, want %q (series %v)", c.st, got, c.want, in.series)
		}
		if _, ok := in.series[`lag_seconds_count{instance="test", job="exp"}`]; !ok {
			t.Errorf("%s: no _count beside the guard's buckets: %v", c.st, in.series)
		}
		if _, ok := in.series[`probe_seconds_count{instance="test", job="exp", probe="api"}`]; !ok {
			t.Errorf("%s: signal series lacks the guard's on labels: %v", c.st, in.series)
		}
	}
}

// TestQuantileGuardErrors: a quantile guard whose aggregation cannot join
// the signal's series is reported, not turned into a test that passes for
// the wrong reason.
func TestQuantileGuardErrors(t *testing.T) {
	for guard, want := range map[string]string{
		`histogram_quantile(0.95, sum by (job, le) (rate(lag_seconds_bucket{job="exp"}[5m]))) <= 0.01`:         "drops instance, which the guard is joined on",
		`histogram_quantile(0.95, sum by (instance, job) (rate(lag_seconds_bucket{job="exp"}[5m]))) <= 0.01`:   "must keep le",
		`histogram_quantile(0.95, sum by (instance, job, le) (rate(lag_seconds_bucket{job="x"}[5m]))) <= 0.01`: `cannot carry job="exp"`,
	} {
		sig := quantileGuardSignal(t, guard)
		err := signalInput(newInput(), sig, *sig.Threshold, firing, 20)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", guard, err, want)
		}
	}
}
