package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/exporter/headers"
)

func TestParseHeaderProbes(t *testing.T) {
	yml := `
headers:
  - name: platform
    url: https://app.example/login?token=t
  - name: admin
    url: http://127.0.0.1:3000/admin
    interval: 1m
    timeout: 2s
    follow_redirects: true
    follow_other_hosts: true
    require:
      Content-Security-Policy: ".*frame-ancestors 'none'.*"
      Strict-Transport-Security: ""
`
	cfg, err := Parse("f.yml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	want := []HeaderProbe{
		{ProbeConfig: headers.ProbeConfig{Name: "platform", URL: "https://app.example/login?token=t", Interval: 30 * time.Second,
			Timeout: 5 * time.Second, Require: headers.DefaultRequire()}, Source: "f.yml:3:5"},
		{ProbeConfig: headers.ProbeConfig{Name: "admin", URL: "http://127.0.0.1:3000/admin", Interval: time.Minute, Timeout: 2 * time.Second,
			FollowRedirects: true, FollowOtherHosts: true, Require: map[string]string{
				"Content-Security-Policy": ".*frame-ancestors 'none'.*", "Strict-Transport-Security": "",
			}}, Source: "f.yml:5:5"},
	}
	if !reflect.DeepEqual(cfg.HeaderProbes, want) {
		t.Errorf("header probes\n got %+v\nwant %+v", cfg.HeaderProbes, want)
	}
}

func TestParseHeaderProbeErrors(t *testing.T) {
	for _, tc := range []struct{ name, yml, want string }{
		{"unknown key", "headers:\n  - name: a\n    url: http://x\n    headers: {}\n", `f.yml:4:5: headers[0].headers: unknown key "headers" (known keys: follow_other_hosts, follow_redirects, interval, name, require, timeout, url)`},
		{"bad bool", "headers:\n  - name: a\n    url: http://x\n    follow_redirects: yes please\n", `f.yml:4:23: headers[0].follow_redirects: expected true or false, got a string`},
		{"require list", "headers:\n  - name: a\n    url: http://x\n    require: [csp]\n", `f.yml:4:14: headers[0].require: expected a mapping, got a list`},
		{"bad regexp", "headers:\n  - name: a\n    url: http://x\n    require: {csp: '('}\n", `f.yml:2:5: headers[0]: header probe "a": require "csp": not a valid regular expression`},
		{"bad url", "headers:\n  - name: a\n    url: ftp://u:secret@x\n", `f.yml:2:5: headers[0]: header probe "a": url must start with http:// or https://`},
		{"missing url", "headers:\n  - name: a\n", `f.yml:2:5: headers[0]: missing key "url"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yml", []byte(tc.yml))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got %v\nwant %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "yes please")) {
				t.Errorf("error quotes a value: %q", err)
			}
		})
	}
}

func TestLoadHeadersFlag(t *testing.T) {
	cfg, err := Load("", Flags{HeadersURL: "http://127.0.0.1:3000/", EventloopURL: "http://127.0.0.1:3000/loop"})
	if err != nil {
		t.Fatal(err)
	}
	// Both flag probes are named platform, what the platform spec selects;
	// the names do not clash across the two kinds of probe.
	if len(cfg.HeaderProbes) != 1 || cfg.HeaderProbes[0].Name != FlagProbeName ||
		!reflect.DeepEqual(cfg.HeaderProbes[0].Require, headers.DefaultRequire()) || cfg.HeaderProbes[0].Source != "--headers.url" {
		t.Errorf("header probes = %+v", cfg.HeaderProbes)
	}
	if _, err := Load("", Flags{HeadersURL: "u:pw-secret@host"}); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("bad --headers.url: %v", err)
	}
}
