package spec

import (
	"strings"
	"testing"
)

const panelSpec = `version: redline/v1
service: api
selectors:
  app: job="api"
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{${app}, status=~"5.."}
    total: http_requests_total{${app}}
    threshold: 1%
alertmanager:
  webhook_url: http://localhost:9095/hook
`

// TestPanelViews covers the dashboard keys the dashboard writer reads:
// panel type, description, threshold, and queries written with Grafana's
// variables.
func TestPanelViews(t *testing.T) {
	s, err := Load("panels.yml", []byte(panelSpec+`canary:
  label: track
  canary: canary
  baseline: stable
  factor: 2
  for: 5m
dashboard:
  title: API
  panels:
    - signal: errors
      type: stat
      threshold: 2%
    - title: Requests
      expr: sum by (track) (rate(http_requests_total{${app}, track=~"$track"}[$__rate_interval]))
`))
	if err != nil {
		t.Fatal(err)
	}
	p := s.Dashboard.Panels
	if p[0].Type != PanelStat || p[0].Threshold.String() != "0.02" || p[0].Unit != "ratio" {
		t.Errorf("signal panel = %+v", p[0])
	}
	if p[1].Type != PanelTimeseries || p[1].Unit != "none" {
		t.Errorf("expr panel defaults: type %q unit %q, want timeseries none", p[1].Type, p[1].Unit)
	}
	if want := `sum by (track) (rate(http_requests_total{job="api", track=~"$track"}[$__rate_interval]))`; p[1].Expr != want {
		t.Errorf("expr = %s, want selectors expanded and Grafana variables kept: %s", p[1].Expr, want)
	}
}

func TestPanelErrors(t *testing.T) {
	_, err := Load("panels.yml", []byte(panelSpec+`dashboard:
  title: API
  panels:
    - signal: errors
      type: piechart
    - title: Tracks
      expr: rate(http_requests_total{track=~"$track"}[$__rate_interval])
    - title: Typo
      expr: rate(http_requests_total[$__rate_intreval])
    - title: Broken
      expr: rate(http_requests_total[$__rate_interval]
`))
	if err == nil {
		t.Fatal("loaded without error")
	}
	want := strings.Join([]string{
		`panels.yml:17:13: dashboard.panels[0].type: unknown panel type "piechart" (want timeseries, stat or gauge)`,
		`panels.yml:19:13: dashboard.panels[1].expr: unknown Grafana variable $track (known: $__rate_interval, $__interval, $__range, $datasource)`,
		`panels.yml:21:13: dashboard.panels[2].expr: unknown Grafana variable $__rate_intreval (known: $__rate_interval, $__interval, $__range, $datasource)`,
		`panels.yml:23:13: dashboard.panels[3].expr: invalid PromQL in "rate(http_requests_total[$__rate_interval]": unclosed left parenthesis`,
	}, "\n")
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
}
