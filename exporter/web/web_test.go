package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/config"
	"github.com/redline-sre/redline/exporter/lifecycle"
)

// The tests here exercise the HTTP layer with FAKE targets (fakeTarget):
// sharing, labelling, routing and reloading do not depend on what a target
// reads. The real pgBouncer target is tested end to end in
// cmd/redline_exporter.

var fakeDesc = prometheus.NewDesc("fake_value", "A value from a fake target.", nil, nil)

type fakeTarget struct {
	calls   atomic.Int32
	closed  atomic.Bool
	release chan struct{} // when not nil, Collect waits for it
	value   float64
}

func (f *fakeTarget) Collect(ctx context.Context, ch chan<- prometheus.Metric) {
	f.calls.Add(1)
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return
		}
	}
	ch <- prometheus.MustNewConstMetric(fakeDesc, prometheus.GaugeValue, f.value)
}

func (f *fakeTarget) Close() { f.closed.Store(true) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newServer(t *testing.T, targets map[string]collector.Target) (*httptest.Server, *Targets) {
	t.Helper()
	set := NewTargets(quiet())
	set.Swap(targets)
	self := prometheus.NewRegistry()
	r := lifecycle.NewReloader(func() (*config.Config, error) { return &config.Config{}, nil }, nil, set, self, quiet())
	h, err := NewHandler(Options{TelemetryPath: "/metrics", DefaultTimeout: 5 * time.Second, Self: self}, set, r, quiet())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, set
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestProbeSelectsOnlyConfiguredTargets(t *testing.T) {
	a, b := &fakeTarget{value: 1}, &fakeTarget{value: 2}
	srv, _ := newServer(t, map[string]collector.Target{"a": a, "b": b})

	code, body := get(t, srv.URL+"/probe?target=b")
	if code != 200 || !strings.Contains(body, `fake_value{target="b"} 2`) || strings.Contains(body, `target="a"`) {
		t.Errorf("/probe?target=b: %d\n%s", code, body)
	}
	for _, q := range []string{"?target=unknown", "", "?target=127.0.0.1:6432"} {
		if code, body := get(t, srv.URL+"/probe"+q); code != http.StatusBadRequest {
			t.Errorf("/probe%s: %d, want 400\n%s", q, code, body)
		}
	}
	if a.calls.Load() != 0 {
		t.Error("probing b or an unknown target collected a")
	}

	code, body = get(t, srv.URL+"/metrics")
	for _, want := range []string{`fake_value{target="a"} 1`, `fake_value{target="b"} 2`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s: %d\n%s", want, code, body)
		}
	}
}

func TestConcurrentScrapesShareOneCollection(t *testing.T) {
	f := &fakeTarget{value: 1, release: make(chan struct{})}
	srv, set := newServer(t, map[string]collector.Target{"a": f})
	var joined atomic.Int32
	set.joined = func() { joined.Add(1) }
	var wg sync.WaitGroup
	bodies := make([]string, 20)
	for i := range bodies {
		path := "/metrics"
		if i%2 == 1 {
			path = "/probe?target=a"
		}
		wg.Go(func() { _, bodies[i] = get(t, srv.URL+path) })
	}
	// Release the collection only once every request has joined it: on a
	// loaded machine a fixed sleep let a late request start a second one.
	waitFor(t, "all 20 requests to join the collection", func() bool { return joined.Load() == int32(len(bodies)) })
	close(f.release)
	wg.Wait()
	if n := f.calls.Load(); n != 1 {
		t.Errorf("20 concurrent scrapes ran %d collections, want 1", n)
	}
	for i, b := range bodies {
		if !strings.Contains(b, `fake_value{target="a"} 1`) {
			t.Errorf("scrape %d lacks the shared result:\n%s", i, b)
		}
	}
}

func TestScrapeDeadlineFromHeader(t *testing.T) {
	f := &fakeTarget{release: make(chan struct{})} // never released: only the deadline ends it
	srv, _ := newServer(t, map[string]collector.Target{"a": f})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/probe?target=a", nil)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "0.3")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("scrape with a 0.3s timeout took %s", took)
	}
}

func TestHealthReadyLanding(t *testing.T) {
	srv, _ := newServer(t, nil)
	if code, _ := get(t, srv.URL+"/-/healthy"); code != 200 {
		t.Errorf("/-/healthy: %d", code)
	}
	if code, _ := get(t, srv.URL+"/-/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/-/ready before any config load: %d, want 503", code)
	}
	code, body := get(t, srv.URL+"/")
	if code != 200 || !strings.Contains(body, "/metrics") || !strings.Contains(body, `action="/probe"`) {
		t.Errorf("landing page: %d\n%s", code, body)
	}
	// Every link on the page leads somewhere (an operator's first click
	// must not be a 404 or a 400).
	links := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(links) < 3 {
		t.Errorf("landing page has %d links:\n%s", len(links), body)
	}
	for _, l := range links {
		if strings.HasPrefix(l[1], "http") {
			continue // the toolkit's link to its own project
		}
		if code, _ := get(t, srv.URL+"/"+strings.TrimPrefix(l[1], "/")); code == http.StatusNotFound || code == http.StatusBadRequest {
			t.Errorf("landing page link %s answers %d", l[1], code)
		}
	}
	if code, _ := get(t, srv.URL+"/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", code)
	}
}

func TestTelemetryPathChecked(t *testing.T) {
	for _, p := range []string{"metrics", "/probe", "/-/ready", "/m/{x}", "/a b"} {
		if _, err := NewHandler(Options{TelemetryPath: p, Self: prometheus.NewRegistry()}, NewTargets(quiet()), nil, quiet()); err == nil {
			t.Errorf("telemetry path %q accepted", p)
		}
	}
	if _, err := NewHandler(Options{TelemetryPath: "/exporter/metrics", Self: prometheus.NewRegistry()}, NewTargets(quiet()), nil, quiet()); err != nil {
		t.Errorf("telemetry path /exporter/metrics: %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A megabyte target name used to come back whole in the 400 answer.
func TestProbeUnknownTargetEchoIsBounded(t *testing.T) {
	srv, _ := newServer(t, map[string]collector.Target{"a": &fakeTarget{}})
	// Nearly 1 MB, and a two-byte rune where a cut at 64 bytes falls.
	long := strings.Repeat("a", 63) + "é" + strings.Repeat("b", 999_000)
	code, body := get(t, srv.URL+"/probe?target="+url.QueryEscape(long))
	if code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", code)
	}
	if len(body) > 200 || !utf8.ValidString(body) || !strings.Contains(body, "unknown target") {
		t.Errorf("answer of %d bytes (valid UTF-8: %v): %.200q", len(body), utf8.ValidString(body), body)
	}
}
