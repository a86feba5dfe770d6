package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestEventloopProbeRunsFromFlag checks the wiring: --eventloop.url starts a
// prober whose observations reach /metrics under probe="eventloop".
func TestEventloopProbeRunsFromFlag(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer app.Close()

	e := startExporter(t, "http", "--eventloop.url="+app.URL+"/noop")
	count := regexp.MustCompile(`(?m)^redline_eventloop_probe_duration_seconds_count\{probe="eventloop"\} (\d+)$`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, body := e.get(t, "/metrics")
		if m := count.FindStringSubmatch(body); m != nil {
			if n, _ := strconv.Atoi(m[1]); n >= 5 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no probe observations on /metrics after 10s:\n%s", e.stderr)
}
