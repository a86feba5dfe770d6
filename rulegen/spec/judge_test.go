package spec

import (
	"strings"
	"testing"
)

const judgeBase = `version: redline/v1
service: api
selectors:
  app: job="api"
signals:
  - name: http_errors
    kind: ratio
    errors: http_requests_total{${app}, code=~"5.."}
    total: http_requests_total{${app}}
    threshold: 1%
  - name: api_latency
    kind: latency
    histogram: http_request_duration_seconds{${app}}
    quantile: 0.95
    threshold: 200ms
  - name: restarts
    kind: rate
    counter: kube_pod_container_status_restarts_total{${app}}
    threshold: 1
triggers:
  - name: ApiErrorRatioHigh
    signal: http_errors
    action: rollback
alertmanager:
  webhook_url: http://rollback-hook:9095/rollback
canary:
  label: track
  canary: canary
  baseline: stable
`

func TestJudgeSection(t *testing.T) {
	s, err := Load("spec.yml", []byte(judgeBase+`  judge:
    pass: 90
    marginal: 70
    signals:
      - signal: api_latency
        direction: increase
        confidence: 99%
        allowed_increase: 1.1
        critical: true
        weight: 2
        min_samples: 10
`))
	if err != nil {
		t.Fatal(err)
	}
	j := s.Canary.Judge
	js := j.Signals[0]
	if j.Pass.Float() != 90 || j.Marginal.Float() != 70 || js.Confidence.Float() != 0.99 || js.AllowedIncrease.Float() != 1.1 ||
		!js.Critical || js.Weight.Float() != 2 || js.MinSamples.Float() != 10 || js.Direction != DirectionIncrease {
		t.Fatalf("decoded %+v %+v", j, js)
	}
}

// TestJudgeErrors: every mistake at its file:line:col, misspelt keys and
// directions with the key or value meant.
func TestJudgeErrors(t *testing.T) {
	_, err := Load("spec.yml", []byte(judgeBase+`  judge:
    pass: 90
    marginal: 95
    signals:
      - signal: api_latency
        direction: increse
        confidence: 1.5
        allowed_increase: 0.5
        allowed_decrease: 2
        weight: 0
        min_samples: 2.5
      - signal: restarts
      - signal: nope
      - signal: api_latency
        critcal: true
      - direction: up
`))
	want := strings.Join([]string{
		`spec.yml:32:15: canary.judge.marginal: marginal (95) cannot be above pass (90)`,
		`spec.yml:35:20: canary.judge.signals[0].direction: direction is increase, decrease or either, got "increse"; did you mean "increase"?`,
		`spec.yml:36:21: canary.judge.signals[0].confidence: confidence is between 50% and 100%, such as 98% or 0.98, got 1.5`,
		`spec.yml:37:27: canary.judge.signals[0].allowed_increase: allowed_increase is a ratio of at least 1 (1.1: a 10% higher canary passes), got 0.5`,
		`spec.yml:38:27: canary.judge.signals[0].allowed_decrease: allowed_decrease is a ratio above 0 and at most 1 (0.9: a 10% lower canary passes), got 2`,
		`spec.yml:39:17: canary.judge.signals[0].weight: weight is a number above 0, got 0`,
		`spec.yml:40:22: canary.judge.signals[0].min_samples: min_samples is a whole number, got 2.5`,
		`spec.yml:41:17: canary.judge.signals[1].signal: signal "restarts" is a rate signal: the canary compares ratio and latency signals between the tracks`,
		`spec.yml:42:17: canary.judge.signals[2].signal: unknown signal "nope"`,
		`spec.yml:43:17: canary.judge.signals[3].signal: signal "api_latency" is judged twice`,
		`spec.yml:44:9: canary.judge.signals[3].critcal: unknown key "critcal"; did you mean "critical"? (known keys: allowed_decrease, allowed_increase, confidence, critical, direction, min_samples, signal, weight)`,
		`spec.yml:45:9: canary.judge.signals[4]: missing key "signal"`,
		`spec.yml:45:20: canary.judge.signals[4].direction: direction is increase, decrease or either, got "up"`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Fatalf("got\n%v\nwant\n%s", err, want)
	}
}
