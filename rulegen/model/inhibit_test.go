package model

import (
	"slices"
	"testing"
)

// TestInhibitionEqual: an inhibition compares service and the labels both
// alerts keep from their series, and none that only one side has (an
// absent() alert has no instance, so comparing it would never match).
func TestInhibitionEqual(t *testing.T) {
	doc := `version: redline/v1
service: api
signals:
  - {name: up, kind: gauge, metric: 'up{job="api"}', function: min, by: [instance], op: ">=", threshold: 1}
  - {name: db_up, kind: gauge, metric: 'pg_up{job="x"}', function: min, by: [target], op: ">=", threshold: 1}
  - {name: collector, kind: gauge, metric: 'collector_success{job="x"}', function: min, by: [target, collector], op: ">=", threshold: 1}
  - {name: errors, kind: ratio, errors: 'requests_total{job="api", code="500"}', total: 'requests_total{job="api"}', threshold: 1%}
  - {name: latency, kind: latency, histogram: 'duration_seconds{job="api"}', quantile: 0.95, threshold: 200ms}
triggers:
  - {name: Down, signal: up, action: page}
  - {name: DbDown, signal: db_up, action: page}
  - {name: CollectorFailing, signal: collector, action: ticket, inhibited_by: [DbDown, Down]}
  - {name: RequestsMissing, signal: errors, absent: true, action: page, inhibited_by: [Down]}
  - {name: LatencyMissing, signal: latency, absent: true, action: page, inhibited_by: [RequestsMissing]}
alertmanager: {webhook_url: http://localhost/hook}
`
	m := mustBuild(t, "spec.yml", doc)
	want := []Inhibition{
		{Cause: "DbDown", Effect: "CollectorFailing", Equal: []string{"service", "target"}},
		{Cause: "Down", Effect: "CollectorFailing", Equal: []string{"service"}},
		{Cause: "Down", Effect: "RequestsMissing", Equal: []string{"service"}},
		{Cause: "RequestsMissing", Effect: "LatencyMissing", Equal: []string{"job", "service"}},
	}
	if !slices.EqualFunc(m.Inhibitions, want, func(a, b Inhibition) bool {
		return a.Cause == b.Cause && a.Effect == b.Effect && slices.Equal(a.Equal, b.Equal)
	}) {
		t.Errorf("inhibitions:\n got %v\nwant %v", m.Inhibitions, want)
	}
}
