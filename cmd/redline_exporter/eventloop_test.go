package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestEventloopProbeRunsFromFlag checks the wiring: --eventloop.url (or
// the file named by --eventloop.url-file) starts a prober whose
// observations reach /metrics under probe="platform".
func TestEventloopProbeRunsFromFlag(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "probe" || p != "s3cret" {
			http.Error(w, "no credentials", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer app.Close()
	withAuth := strings.Replace(app.URL, "http://", "http://probe:s3cret@", 1) + "/noop"
	t.Run("flag", func(t *testing.T) { probeObserved(t, "--eventloop.url="+withAuth) })
	t.Run("file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "url")
		writeFile(t, file, withAuth+"\n")
		probeObserved(t, "--eventloop.url-file="+file)
	})
}

func probeObserved(t *testing.T, flag string) {
	e := startExporter(t, "http", flag)
	t.Helper()
	statusFailures := regexp.MustCompile(`(?m)^redline_eventloop_probe_failures_total\{probe="platform",reason="status"\} (\S+)$`)
	count := regexp.MustCompile(`(?m)^redline_eventloop_probe_duration_seconds_count\{probe="platform"\} (\d+)$`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, body := e.get(t, "/metrics")
		if m := count.FindStringSubmatch(body); m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 5 {
				// The URL's credentials reached the app: no 401s.
				if f := statusFailures.FindStringSubmatch(body); f != nil && f[1] != "0" {
					t.Fatalf("probe answered with errors (credentials lost?): %s", f[0])
				}
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no probe observations on /metrics after 10s:\n%s", e.stderr)
}
