package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHeaderProbeRunsFromFlag checks the wiring: --headers.url starts a
// header prober whose results reach /metrics under probe="platform", with
// the default requirements.
func TestHeaderProbeRunsFromFlag(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.WriteHeader(http.StatusOK)
	}))
	defer app.Close()
	e := startExporter(t, "http", "--headers.url="+app.URL+"/?token=s3cret")
	want := []string{
		`redline_http_header_match{header="Content-Security-Policy",probe="platform"} 1`,
		`redline_http_header_match{header="Cross-Origin-Embedder-Policy",probe="platform"} 0`,
		`redline_http_header_probe_success{probe="platform"} 1`,
	}
	// The first probe falls within a second of the start.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := e.get(t, "/metrics")
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w+"\n") {
				missing = w
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s after 20s:\n%s", missing, e.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(e.stderr.String(), "s3cret") {
		t.Errorf("the log shows the URL's token:\n%s", e.stderr)
	}
}
