package prom

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

const baseSpec = `version: redline/v1
service: api
signals:
  - name: http_errors
    kind: ratio
    errors: http_requests_total{code="500"}
    total: http_requests_total
    threshold: 1%
alertmanager:
  webhook_url: http://hook:9095/
`

func build(t *testing.T, text string) *model.Model {
	t.Helper()
	s, err := spec.Load("s.yml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "s.yml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRunRefuses: nothing to judge, or a window that is not one, stops
// the run before any query (the querier, nil here, is never called).
func TestRunRefuses(t *testing.T) {
	plain := build(t, baseSpec)
	canary := build(t, baseSpec+"canary:\n  label: track\n  canary: c\n  baseline: b\n")
	now := time.Now()
	for _, tc := range []struct {
		m   *model.Model
		w   Window
		msg string
	}{
		{plain, Window{From: now.Add(-time.Hour), To: now, Step: time.Minute}, "no canary: section"},
		{canary, Window{From: now, To: now.Add(-time.Hour), Step: time.Minute}, "ends"},
		{canary, Window{From: now.Add(-time.Hour), To: now}, "step"},
	} {
		_, err := Run(context.Background(), tc.m, nil, tc.w, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("got %v, want %q", err, tc.msg)
		}
	}
	if got := Config(canary.Judge.Metrics[0]); got.Type != "count" || got.Direction != "increase" || got.Name != "http_errors" {
		t.Errorf("config %+v", got)
	}
}
