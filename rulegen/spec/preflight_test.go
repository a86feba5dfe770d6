package spec

import (
	"strings"
	"testing"
)

const preflightBase = `version: redline/v1
service: api
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{code=~"5.."}
    total: http_requests_total
    threshold: 1%
triggers:
  - name: Errors
    signal: errors
    action: rollback
alertmanager:
  webhook_url: http://hook:9/x
`

func TestPreflightSectionLoads(t *testing.T) {
	s, err := Load("p.yml", []byte(preflightBase+`selectors:
  node: job="node"
preflight:
  - name: ntp
    expr: max(abs(node_timex_offset_seconds{${node}}))
    threshold: 50ms
    required: false
  - name: headers
    http:
      url: https://app.example/
      headers:
        Content-Security-Policy: ""
        Cross-Origin-Embedder-Policy: require-corp
  - name: behind
    signal: errors
    no_data: go
    description: one series per anomaly
`))
	if err != nil {
		t.Fatal(err)
	}
	ntp, h := s.Preflight[0], s.Preflight[1]
	if ntp.Expr != `max(abs(node_timex_offset_seconds{job="node"}))` || ntp.Op != "<=" || ntp.NoData != NoDataUnknown || ntp.IsRequired() {
		t.Errorf("expr check defaults: %+v", ntp)
	}
	if h.HTTP.Status != 200 || !h.IsRequired() {
		t.Errorf("http check defaults: status %d required %t", h.HTTP.Status, h.IsRequired())
	}
}

func TestPreflightSectionErrors(t *testing.T) {
	for _, tc := range []struct{ section, want string }{
		{"  - expr: up\n    threshold: 1\n", `preflight[0]: missing key "name"`},
		{"  - name: a\n    expr: up\n    threshold: 1\n  - name: a\n    expr: up\n    threshold: 1\n", `preflight[1].name: duplicate preflight check name "a"`},
		{"  - name: a\n    expr: up{\n    threshold: 1\n", `preflight[0].expr: invalid PromQL in "up{"`},
		{"  - name: a\n    expr: up\n", `preflight[0]: missing key "threshold"`},
		{"  - name: a\n    expr: up\n    threshold: 1\n    no_data: maybe\n", `preflight[0].no_data: invalid no_data "maybe" (unknown or go)`},
		{"  - name: a\n", `preflight[0]: missing key "expr", "http" or "signal"`},
		{"  - name: a\n    expr: up\n    threshold: 1\n    http: {url: http://x/}\n", `preflight[0]: a check has one of expr, http and signal`},
		{"  - name: a\n    http: {url: 'ftp://u:pw@x/'}\n", `preflight[0].http.url: expected an http:// or https:// URL with a host`},
		{"  - name: a\n    http: {url: http://x/, status: 700}\n", `preflight[0].http.status: expected an HTTP status code (100 to 599), got "700"`},
		{"  - name: a\n    http: {url: http://x/, headers: {X-Frame: '('}}\n", `preflight[0].http.headers.X-Frame: invalid regular expression "("`},
		{"  - name: a\n    http: {url: http://x/}\n    threshold: 1\n", `preflight[0].threshold: threshold applies to expr checks, not http ones`},
		{"  - name: a\n    signal: nope\n    no_data: go\n    description: x\n", `preflight[0].signal: unknown signal "nope"`},
		{"  - name: a\n    signal: errors\n    description: x\n", `preflight[0]: a signal entry changes its check: set no_data: go or required: false`},
		{"  - name: a\n    signal: errors\n    required: false\n", `preflight[0]: missing key "description"`},
	} {
		_, err := Load("p.yml", []byte(preflightBase+"preflight:\n"+tc.section))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("section\n%s\ngot %v\nwant an error containing %q", tc.section, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("the error shows the URL's credentials: %v", err)
		}
	}
}
