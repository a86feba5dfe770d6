package promtest

import (
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

const guardSpec = `version: redline/v1
service: api
signals:
  - name: memory_growth
    kind: gauge
    metric: process_resident_memory_bytes{job="api"}
    function: deriv
    window: 30m
    per: hour
    threshold: 52428800
    guard:
      expr: GUARD
      on: [instance, job]
alertmanager:
  webhook_url: http://localhost/hook
`

func guardSignal(t *testing.T, guard string) *model.Signal {
	t.Helper()
	s, err := spec.Load("guard.yml", []byte(strings.Replace(guardSpec, "GUARD", guard, 1)))
	m := buildModel(t, s, err)
	return m.Signals[0]
}

// TestGuardInputProcessAge: an old process (started an hour before the
// test) meets the age guard for the whole test, a young one (started an
// hour into it) never does, and both join the signal's series on instance
// and job.
func TestGuardInputProcessAge(t *testing.T) {
	sig := guardSignal(t, `time() - process_start_time_seconds{job="api"} > 1800`)
	for _, c := range []struct {
		st   state
		want string
	}{{firing, "-3600+0x50"}, {unmet, "3600+0x50"}} {
		in := newInput()
		if err := signalInput(in, sig, *sig.Threshold, c.st, 50); err != nil {
			t.Fatal(err)
		}
		got := in.series[`process_start_time_seconds{instance="test", job="api"}`]
		if got != c.want {
			t.Errorf("%s: start time %q, want %q (series %v)", c.st, got, c.want, in.series)
		}
		if _, ok := in.series[`process_resident_memory_bytes{instance="test", job="api"}`]; !ok {
			t.Errorf("%s: signal series lacks the guard's on labels: %v", c.st, in.series)
		}
	}
}

// TestGuardInputErrors: guards the synthesizer cannot evaluate, or cannot
// make both hold and fail, are reported rather than tested wrongly.
func TestGuardInputErrors(t *testing.T) {
	for guard, want := range map[string]string{
		`changes(process_start_time_seconds{job="api"}[5m]) == 0`: "function changes() is not supported in guards",
		`process_start_time_seconds{job="api"} > -1e12`:           "no constant value of its series makes it fail for the whole test",
		`process_start_time_seconds{job="web"} > 0`:               "cannot carry job=\"api\"",
	} {
		sig := guardSignal(t, guard)
		in := newInput()
		err := signalInput(in, sig, *sig.Threshold, unmet, 50)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", guard, err, want)
		}
	}
}

// TestSteppedKeepsGuardSeries: a burn-rate burst joins two inputs; a
// guard's constant series must run through both, or the burst's silence
// would come from a missing guard instead of the long window.
func TestSteppedKeepsGuardSeries(t *testing.T) {
	sig := guardSignal(t, `time() - process_start_time_seconds{job="api"} > 1800`)
	healthy, failing := newInput(), newInput()
	for _, in := range []*input{healthy, failing} {
		if err := guardInput(in, sig, labelSet{"instance": "test", "job": "api"}, true, 10); err != nil {
			t.Fatal(err)
		}
	}
	got := stepped(healthy, failing, 60, 15).series[`process_start_time_seconds{instance="test", job="api"}`]
	if want := "-3600+0x75"; got != want {
		t.Errorf("guard series across the step = %q, want %q", got, want)
	}
}
