package model

import (
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/spec"
)

func quantity(t *testing.T, s string) spec.Quantity {
	t.Helper()
	q, err := spec.ParseQuantity(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// TestValuesReadInTheirUnit: a leak of bytes per hour reads as MiB/h and a
// share per hour as a percentage per hour, in values and thresholds alike.
func TestValuesReadInTheirUnit(t *testing.T) {
	for _, c := range []struct {
		unit, per, threshold string
		value, text          string
	}{
		{"bytes", "hour", "52428800", "{{ $value | humanize1024 }}B/h", "50MiB/h"},
		{"bytes", "", "100000000", "{{ $value | humanize1024 }}B", "95.37MiB"},
		{"bytes", "", "1000", "{{ $value | humanize1024 }}B", "1000B"},
		{"bytes", "", "1536", "{{ $value | humanize1024 }}B", "1.5kiB"},
		{"ratio", "hour", "20%", "{{ $value | humanizePercentage }}/h", "20%/h"},
		{"ratio", "", "0.2", "{{ $value | humanizePercentage }}", "20%"},
		{"seconds", "", "200ms", "{{ $value | humanizeDuration }}", "200ms"},
		{"seconds", "second", "0.5", "{{ $value | humanizeDuration }}/s", "0.5s/s"},
		{"per_minute", "minute", "0.5", "{{ $value | humanize }}/min", "0.5/min"},
		{"per_hour", "", "3", "{{ $value | humanize }}/h", "3/h"},
		{"none", "", "30", "{{ $value | humanize }}", "30"},
	} {
		s := &Signal{Signal: &spec.Signal{Unit: c.unit, Per: c.per}}
		if got := s.ValueTemplate(); got != c.value {
			t.Errorf("%s per %q: value %q, want %q", c.unit, c.per, got, c.value)
		}
		if got := s.ThresholdText(quantity(t, c.threshold)); got != c.text {
			t.Errorf("%s per %q: threshold %s reads %q, want %q", c.unit, c.per, c.threshold, got, c.text)
		}
	}
}

const identitySpec = `version: redline/v1
service: api
signals:
  - name: saturation
    kind: gauge
    metric: pool_saturation_ratio
    by: [target, database]
    threshold: 90%
  - name: waiting
    kind: gauge
    metric: pool_waiting
    by: [target, database]
    threshold: 0
  - name: queue
    kind: gauge
    metric: queue_age_seconds
    threshold: 30s
  - name: drift
    kind: rate
    counter: drift_total
    threshold: 0
  - name: declines
    kind: rate
    counter: declines_total
    threshold: 2
triggers:
  - {name: Saturated, all: [{signal: saturation}, {signal: waiting}], action: page}
  - {name: QueueStale, signal: queue, action: page}
  - {name: Drift, signal: drift, for: 1m, action: rollback}
  - {name: Declines, signal: declines, action: page}
alertmanager:
  webhook_url: http://localhost/hook
`

// TestAlertsNameTheirSeries: an alert over by-labelled series says which
// one it is about; a service-wide alert has nothing to name.
func TestAlertsNameTheirSeries(t *testing.T) {
	m := mustBuild(t, "identity.yml", identitySpec)
	want := "saturation of target/database {{ $labels.target }}/{{ $labels.database }} is {{ $value | humanizePercentage }}"
	for _, a := range m.Alerts {
		for _, key := range []string{"summary", "description"} {
			got := a.Annotations[key]
			switch a.Name {
			case "Saturated":
				if !strings.Contains(got, want) {
					t.Errorf("%s %s = %q, want it to contain %q", a.Name, key, got, want)
				}
			default:
				if strings.Contains(got, "$labels") {
					t.Errorf("%s %s names labels its value does not keep: %q", a.Name, key, got)
				}
			}
		}
	}
}

// TestFirstIncrementOnlyWhenAnyEventIsAViolation: a counter with threshold
// 0 also fires when it appears above 0; one with a real rate threshold
// does not, since a single event is below it anyway.
func TestFirstIncrementOnlyWhenAnyEventIsAViolation(t *testing.T) {
	m := mustBuild(t, "identity.yml", identitySpec)
	exprs := map[string]string{}
	for _, a := range m.Alerts {
		exprs[a.Name] = a.Expr
	}
	if want := "service:drift:rate5m * 60 > 0\nor\nsum(drift_total > 0 unless last_over_time(drift_total[1h] offset 5m)) / 300 * 60"; exprs["Drift"] != want {
		t.Errorf("Drift expr:\n%s\nwant:\n%s", exprs["Drift"], want)
	}
	if strings.Contains(exprs["Declines"], "unless") {
		t.Errorf("Declines catches first increments: %s", exprs["Declines"])
	}
}
