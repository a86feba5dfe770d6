package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/config"
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
	r := NewReloader(func() (*config.Config, error) { return &config.Config{}, nil }, nil, set, self, quiet())
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

func TestReload(t *testing.T) {
	var cfg *config.Config
	var loadErr error
	built := map[string]*fakeTarget{}
	builders := Builders{config.KindPgBouncer: func(tc config.Target, _ *slog.Logger) (collector.Target, error) {
		if tc.DSN == "bad" {
			return nil, errors.New("cannot build")
		}
		f := &fakeTarget{value: float64(len(tc.DSN))}
		built[tc.Name+"/"+tc.DSN] = f
		return f, nil
	}}
	set := NewTargets(quiet())
	reg := prometheus.NewRegistry()
	r := NewReloader(func() (*config.Config, error) { return cfg, loadErr }, builders, set, reg, quiet())
	var hooked []int
	var hookErr error
	r.Hooks = append(r.Hooks, func(c *config.Config) error {
		if hookErr != nil {
			return hookErr
		}
		hooked = append(hooked, len(c.Probes))
		return nil
	})
	pgb := func(name, dsn string) config.Target {
		return config.Target{Kind: config.KindPgBouncer, Name: name, DSN: dsn, MaxConnections: 2}
	}
	reloaded := func() float64 {
		return testutil.ToFloat64(r.success)
	}

	cfg = &config.Config{PgBouncer: []config.Target{pgb("a", "dsn-a"), pgb("b", "dsn-b")}, Probes: []config.Probe{{Source: "f.yml:9"}}}
	if err := r.Reload(); err != nil || reloaded() != 1 || !r.Ready() {
		t.Fatalf("first load: %v, metric %g", err, reloaded())
	}
	a1, b1 := built["a/dsn-a"], built["b/dsn-b"]

	// a unchanged, b's DSN changed, c new.
	cfg = &config.Config{PgBouncer: []config.Target{pgb("a", "dsn-a"), pgb("b", "dsn-b2"), pgb("c", "dsn-c")}}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Names(), ","); got != "a,b,c" {
		t.Errorf("targets after reload: %s", got)
	}
	if ms, _ := set.Collect(context.Background(), "a"); len(ms) != 1 || a1.calls.Load() != 1 {
		t.Error("unchanged target a was not kept")
	}
	waitFor(t, "old b closed", b1.closed.Load)
	if a1.closed.Load() {
		t.Error("unchanged target a was closed")
	}

	// A failing load and a failing build both keep the running set.
	loadErr = errors.New("f.yml:3: unknown key")
	if err := r.Reload(); err == nil || reloaded() != 0 {
		t.Errorf("failed load: err %v, metric %g", err, reloaded())
	}
	loadErr = nil
	cfg = &config.Config{PgBouncer: []config.Target{pgb("a", "dsn-a"), pgb("d", "bad")}, Postgres: []config.Target{{Kind: config.KindPostgres, Name: "pg", DSN: "x"}}}
	err := r.Reload()
	if err == nil || !strings.Contains(err.Error(), `target "d": cannot build`) || !strings.Contains(err.Error(), `postgres targets are not supported`) {
		t.Errorf("failed build: %v", err)
	}
	if got := strings.Join(set.Names(), ","); got != "a,b,c" || reloaded() != 0 {
		t.Errorf("after failed reloads: targets %s, metric %g", got, reloaded())
	}
	if len(hooked) != 2 || hooked[0] != 1 {
		t.Errorf("hooks ran %v, want once per successful load", hooked)
	}

	// A failing hook (probes that cannot be applied) fails the reload and
	// discards the targets built for it.
	hookErr = errors.New("event-loop probes: bad header")
	cfg = &config.Config{PgBouncer: []config.Target{pgb("a", "dsn-a"), pgb("e", "dsn-e")}}
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "bad header") || reloaded() != 0 {
		t.Errorf("failing hook: err %v, metric %g", err, reloaded())
	}
	if got := strings.Join(set.Names(), ","); got != "a,b,c" {
		t.Errorf("after a failing hook: targets %s", got)
	}
	waitFor(t, "target built for the failed reload closed", built["e/dsn-e"].closed.Load)
	hookErr = nil

	r.CloseAll()
	if !a1.closed.Load() || len(set.Names()) != 0 {
		t.Error("CloseAll left targets open")
	}
	// A reload after shutdown (a late SIGHUP) must not start targets that
	// nothing would close.
	cfg = &config.Config{PgBouncer: []config.Target{pgb("f", "dsn-f")}}
	if err := r.Reload(); err == nil || len(set.Names()) != 0 || built["f/dsn-f"] != nil {
		t.Errorf("reload after CloseAll: err %v, targets %v", err, set.Names())
	}
}

// TestSameTargetComparesEverySetting guards against a setting added to
// config.Target that a reload would not notice.
func TestSameTargetComparesEverySetting(t *testing.T) {
	base := config.Target{Kind: config.KindPostgres, Name: "a", DSN: "x", Databases: []string{"app"}, MaxConnections: 2, ConnectTimeout: time.Second, Source: "f.yml:1"}
	moved := base
	moved.Source = "g.yml:7"
	if !sameTarget(base, moved) {
		t.Error("a target that only moved in the file is rebuilt")
	}
	// Change every field but Source, one at a time, by reflection, so a
	// field added later is covered without editing this test.
	v := reflect.ValueOf(base)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Name == "Source" {
			continue
		}
		changed := base
		fv := reflect.ValueOf(&changed).Elem().Field(i)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(fv.String() + "-changed")
		case reflect.Int, reflect.Int64:
			fv.SetInt(fv.Int() + 1)
		case reflect.Slice:
			fv.Set(reflect.Append(fv, reflect.ValueOf("other")))
		default:
			t.Fatalf("field %s: kind %s not covered by this test", f.Name, fv.Kind())
		}
		if sameTarget(base, changed) {
			t.Errorf("a change of %s does not rebuild the target", f.Name)
		}
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
