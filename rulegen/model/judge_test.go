package model

import (
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/rulegen/spec"
)

const judgeSpec = `version: redline/v1
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

func buildJudge(t *testing.T, extra string) *Judge {
	t.Helper()
	s, err := spec.Load("spec.yml", []byte(judgeSpec+extra))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(s, "spec.yml")
	if err != nil {
		t.Fatal(err)
	}
	return m.Judge
}

// TestJudgeDefaults: without a judge: section every compared signal is
// judged, its bad direction its violation's (ratio and latency signals
// are healthy below their threshold: increase); each query parses and reads
// only its track's scraped series over the given range.
func TestJudgeDefaults(t *testing.T) {
	j := buildJudge(t, "")
	if j == nil || len(j.Metrics) != 2 || j.Pass != 0 {
		t.Fatalf("judge %+v", j)
	}
	want := map[string][2]string{
		"http_errors": {spec.DirectionIncrease, JudgeCount},
		"api_latency": {spec.DirectionIncrease, JudgeContinuous},
	}
	for _, jm := range j.Metrics {
		w := want[jm.Signal.Name]
		if jm.Direction != w[0] || jm.Type != w[1] {
			t.Errorf("%s: direction %s type %s, want %v", jm.Signal.Name, jm.Direction, jm.Type, w)
		}
		for _, canary := range []bool{true, false} {
			track := `track="stable"`
			if canary {
				track = `track="canary"`
			}
			exprs := []string{jm.SamplesQuery(canary, 30*time.Second)}
			if ev, ex := jm.EventsQuery(canary, 10*time.Minute); ev != "" {
				exprs = append(exprs, ev, ex)
			}
			for _, e := range exprs {
				if _, err := spec.Parser.ParseExpr(e); err != nil {
					t.Errorf("%s: %q: %v", jm.Signal.Name, e, err)
				}
				if !strings.Contains(e, track) || strings.Contains(e, ":") && !strings.Contains(e, "[") {
					t.Errorf("%s: %q does not read the %s track's series", jm.Signal.Name, e, track)
				}
			}
		}
	}
	if got := j.Metrics[0].SamplesQuery(false, time.Minute); got != `(sum(rate(http_requests_total{job="api", code=~"5..", track="stable"}[1m])) or vector(0)) / sum(rate(http_requests_total{job="api", track="stable"}[1m]))` {
		t.Errorf("ratio samples: %s", got)
	}
	lat := j.Metrics[1]
	if got := lat.SamplesQuery(true, 30*time.Second); got != `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="api", track="canary"}[30s])))` {
		t.Errorf("latency samples: %s", got)
	}
}

// TestJudgeUncomparedSignal: a listed signal that reads none of the
// canary's selectors is an error at its line.
func TestJudgeUncomparedSignal(t *testing.T) {
	text := strings.Replace(judgeSpec, "selectors:\n  app: job=\"api\"\n", "selectors:\n  app: job=\"api\"\n  other: job=\"other\"\n", 1)
	s, err := spec.Load("spec.yml", []byte(text+`  selectors: [other]
  judge:
    signals:
      - signal: api_latency
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(s, "spec.yml")
	want := `spec.yml:30:17: canary.judge.signals[0].signal: signal "api_latency" reads none of the canary's selectors (other): it has no track to judge`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestJudgeSection: a judge: section picks the signals and sets them.
func TestJudgeSection(t *testing.T) {
	j := buildJudge(t, `  judge:
    pass: 90
    marginal: 60
    signals:
      - signal: api_latency
        direction: either
        confidence: 99%
        allowed_increase: 1.1
        critical: true
        weight: 3
        min_samples: 20
`)
	if len(j.Metrics) != 1 || j.Pass != 90 || j.Marginal != 60 {
		t.Fatalf("judge %+v", j)
	}
	jm := j.Metrics[0]
	if jm.Signal.Name != "api_latency" || jm.Direction != spec.DirectionEither || jm.Confidence != 0.99 || jm.AllowedIncrease != 1.1 ||
		!jm.Critical || jm.Weight != 3 || jm.MinSamples != 20 {
		t.Fatalf("metric %+v", jm)
	}
}
