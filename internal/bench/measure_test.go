package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestMeasureCountsScrapesSeriesAndLogins(t *testing.T) {
	var scrapes atomic.Int64
	log := filepath.Join(t.TempDir(), "server.log")
	os.WriteFile(log, nil, 0o644)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := scrapes.Add(1)
		// Every scrape "logs in" once, as an exporter without a pool would.
		f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0o644)
		fmt.Fprintln(f, "LOG: connection authorized: user=x")
		f.Close()
		fmt.Fprintf(w, "# HELP a_metric x\n# TYPE a_metric gauge\na_metric{l=\"1\"} %d\na_metric{l=\"2\"} 1\n", n)
		// Durations 0.001 … 0.012 over the 12 scrapes: the measured ten
		// (3 … 12 ms) have a median of 8 ms.
		fmt.Fprintf(w, "redline_collector_duration_seconds{collector=\"c\",target=\"x\"} %g\n", float64(n)/1000)
	}))
	defer srv.Close()

	r := Measure(context.Background(), "fake", srv.URL, os.Getpid(), 2, 10, 0, 5*time.Second,
		Counters{PGConnections: CountLines(log, "connection authorized")})
	if r.Error != "" || r.FailedScrapes != 0 {
		t.Fatalf("unexpected failure: %+v", r)
	}
	if r.Series != 3 {
		t.Errorf("series = %d, want 3", r.Series)
	}
	if got := r.CollectorSeconds[`redline_collector_duration_seconds{collector="c",target="x"}`]; got != 0.008 {
		t.Errorf("median collector duration = %v, want 0.008 (%v)", got, r.CollectorSeconds)
	}
	if r.PGConnections != 10 {
		t.Errorf("connections during 10 measured scrapes = %d, want 10", r.PGConnections)
	}
	if got := scrapes.Load(); got != 12 {
		t.Errorf("scrapes = %d, want 2 warm-up + 10", got)
	}
	if r.Median <= 0 || r.P90 < r.Median || r.RSSBytes <= 0 {
		t.Errorf("implausible figures: %+v", r)
	}
}

func TestMeasureReportsDeadExporter(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r := Measure(context.Background(), "dead", url, os.Getpid(), 1, 3, 0, time.Second, Counters{})
	if r.Error == "" {
		t.Fatal("a dead exporter was measured as if it answered")
	}
}
