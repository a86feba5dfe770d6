package model

import (
	"strings"
	"testing"
)

const analysisSpec = `version: redline/v1
service: api
selectors:
  app: job="api"
  db: job="db"
signals:
  - {name: errors, kind: ratio, errors: 'requests_total{${app}, code=~"5.."}', total: 'requests_total{${app}}', threshold: 1%, min_rate: 0.5}
  - {name: latency, kind: latency, histogram: 'duration_seconds{${app}}', quantile: 0.95, threshold: 200ms, bucket: true}
  - {name: pool, kind: gauge, metric: 'pool_saturation{${db}}', by: [pool], threshold: 90%}
  - {name: drift, kind: rate, counter: 'drift_total{${app}}', threshold: 0}
triggers:
  - {name: ErrorsHigh, signal: errors, for: 5m, action: rollback}
  - {name: PoolFull, signal: pool, for: 2m, action: rollback}
  - {name: Drift, signal: drift, for: 1m, action: rollback}
  - {name: SlowAndFailing, all: [{signal: latency}, {signal: errors, threshold: 0.5%}], for: 2m, action: rollback}
  - {name: ErrorsPage, signal: errors, for: 5m, action: page}
  - {name: RequestsMissing, signal: errors, absent: true, action: rollback}
canary:
  label: track
  canary: canary
  baseline: stable
  steps: [1%, 50%, 100%]
  selectors: [app]
outputs:
  argo_rollouts: {namespace: apps, prometheus: 'http://prometheus:9090'}
alertmanager: {webhook_url: http://localhost/hook}
`

var argoScope = Scope{Label: "track", Canary: "{{args.canary-track}}", Baseline: "{{args.baseline-track}}"}

// TestChecksAreRollbackAlerts: every rollback trigger and canary comparison
// is a check, pages and absent() alerts are not (an absent series of the
// canary alone is the canary not yet scraped).
func TestChecksAreRollbackAlerts(t *testing.T) {
	m := mustBuild(t, "spec.yml", analysisSpec)
	var names []string
	for _, c := range m.Checks {
		names = append(names, c.Alert.Name)
	}
	want := "ErrorsHigh PoolFull Drift SlowAndFailing ErrorsCanaryWorse LatencyCanaryWorse"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("checks %s, want %s", got, want)
	}
}

// TestCheckQueryScopesTheCanary: a trigger's query reads scraped series
// only, the app's with the canary matcher and the database's without.
func TestCheckQueryScopesTheCanary(t *testing.T) {
	m := mustBuild(t, "spec.yml", analysisSpec)
	for _, c := range m.Checks {
		q, err := c.Query(argoScope)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(q, "service:") || strings.Contains(q, "track:") {
			t.Errorf("%s reads a recorded series:\n%s", c.Alert.Name, q)
		}
		switch c.Alert.Name {
		case "ErrorsHigh":
			for _, want := range []string{
				`requests_total{code=~"5..",job="api",track="{{args.canary-track}}"}[5m]`,
				"0.01", `>= 0.5`,
			} {
				if !strings.Contains(q, want) {
					t.Errorf("%s query lacks %s:\n%s", c.Alert.Name, want, q)
				}
			}
		case "PoolFull":
			if strings.Contains(q, "track") || !strings.Contains(q, `pool_saturation{job="db"}`) {
				t.Errorf("a database signal is not the canary's and must stay unscoped:\n%s", q)
			}
		case "ErrorsCanaryWorse":
			for _, want := range []string{`track="{{args.canary-track}}"`, `track="{{args.baseline-track}}"`, "ignoring (track)"} {
				if !strings.Contains(q, want) {
					t.Errorf("%s query lacks %s:\n%s", c.Alert.Name, want, q)
				}
			}
			if strings.Contains(q, `"canary"`) || strings.Contains(q, `"stable"`) {
				t.Errorf("%s keeps a literal track:\n%s", c.Alert.Name, q)
			}
		}
	}
}

// TestCheckQueryRenamesTheTrackLabel: an engine whose canary is told apart
// by another label (Flagger's app=<target>) gets that label everywhere.
func TestCheckQueryRenamesTheTrackLabel(t *testing.T) {
	m := mustBuild(t, "spec.yml", analysisSpec)
	s := Scope{Label: "app", Canary: "{{ target }}", Baseline: "{{ target }}-primary"}
	for _, c := range m.Checks {
		q, err := c.Query(s)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(q, "track") {
			t.Errorf("%s still names the spec's track label:\n%s", c.Alert.Name, q)
		}
		if !strings.Contains(q, `app="{{ target }}"`) && !strings.Contains(q, "pool_saturation") {
			t.Errorf("%s is not scoped to the target:\n%s", c.Alert.Name, q)
		}
	}
}
