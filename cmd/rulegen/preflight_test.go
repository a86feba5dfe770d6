package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreflightExitCodes covers the exits that need no Prometheus: 2 for
// the command line and the spec, 3 when nothing answers. GO, NO-GO and
// refused credentials run against a real Prometheus in
// rulegen/preflight and e2e.
func TestPreflightExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := writeSpec(t, dir, smallSpec)
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("version: redline/v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://user:pw-secret@" + l.Addr().String()
	l.Close()
	httpCfg := filepath.Join(dir, "http.yml")
	if err := os.WriteFile(httpCfg, []byte("basic_auth:\n  username: u\n  password_file: /nonexistent\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"preflight", "--spec", good}, 2, "required flag(s) '--prometheus' not provided"},
		{[]string{"preflight", "--spec", good, "--prometheus", closed, "--output", "yaml"}, 2, "enum value must be one of text,json"},
		{[]string{"preflight", "--spec", bad, "--prometheus", closed}, 2, `missing key "service"`},
		{[]string{"preflight", "--spec", good, "--prometheus", "ftp://x"}, 2, "expected an http:// or https:// URL"},
		{[]string{"preflight", "--spec", good, "--prometheus", closed, "--http.config.file", httpCfg, "--bearer-token-file", "/x"}, 2, "exclude each other"},
		{[]string{"preflight", "--spec", good, "--prometheus", closed, "--basic-auth.username", "u"}, 2, "go together"},
		{[]string{"preflight", "--spec", good, "--prometheus", closed}, 3, "unreachable"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d containing %q", tc.args, code, stderr, tc.code, tc.msg)
		}
		if strings.Contains(stdout+stderr, "pw-secret") {
			t.Errorf("%v: the URL's password is printed: %s%s", tc.args, stdout, stderr)
		}
	}
}

// TestPreflightSlowPrometheus: a server that answers its build information
// but no query in time is NO-GO (exit 1), not unreachable (3), and the
// evidence directory holds the report and its manifest.
func TestPreflightSlowPrometheus(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/status/buildinfo" {
			_, _ = w.Write([]byte(`{"status":"success","data":{"version":"2.45.0"}}`))
			return
		}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	dir := t.TempDir()
	good := writeSpec(t, dir, smallSpec)
	ev := filepath.Join(dir, "evidence")
	code, stdout, stderr := runCLI(t, "preflight", "--spec", good, "--prometheus", srv.URL, "--timeout", "2s", "--query-timeout", "300ms", "--evidence", ev)
	if code != 1 || !strings.Contains(stdout, "\nNO-GO: ") || !strings.Contains(stdout, "timed out after --query-timeout 300ms") {
		t.Errorf("exit %d, stdout:\n%s\nstderr: %s\nwant exit 1, NO-GO, the timeout named", code, stdout, stderr)
	}
	for _, name := range []string{"SHA256SUMS", "preflight.txt", "preflight.json"} {
		if _, err := os.Stat(filepath.Join(ev, name)); err != nil {
			t.Errorf("evidence: %v", err)
		}
	}
}
