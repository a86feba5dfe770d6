package eventloop

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func runningProbes(m *Manager) []string { return m.Names() }

func proberOf(m *Manager, name string) *prober {
	p, _ := m.Prober(name)
	return p
}

// probeLabels lists the probe label values present in the event-loop
// families.
func probeLabels(t *testing.T, reg prometheus.Gatherer) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, name := range []string{"redline_eventloop_probe_duration_seconds", "redline_eventloop_probe_requests_total", "redline_eventloop_probe_failures_total"} {
		mf := family(t, reg, name)
		if mf == nil {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "probe" && !slices.Contains(out[name], lp.GetValue()) {
					out[name] = append(out[name], lp.GetValue())
				}
			}
		}
		slices.Sort(out[name])
	}
	return out
}

// TestManagerReload walks a manager through the reloads the exporter does:
// start, a rejected config, a changed set, an empty set, shutdown. Not
// parallel: goleak checks the whole process.
func TestManagerReload(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	reg := prometheus.NewRegistry()
	m := NewManager(reg, testLogger(t))

	a := ProbeConfig{Name: "a", URL: srv.URL + "/a", Interval: 10 * time.Millisecond}
	b := ProbeConfig{Name: "b", URL: srv.URL + "/b", Interval: 10 * time.Millisecond}
	if err := m.Apply([]ProbeConfig{a, b}); err != nil {
		t.Fatal(err)
	}
	if got := runningProbes(m); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("running %v, want [a b]", got)
	}
	// Counters for every reason exist from the start, at 0.
	if f := failures(t, reg, "a"); len(f) != len(reasons) {
		t.Errorf("failure series of a new probe = %v, want all of %v at 0", f, reasons)
	}
	// Poll rather than sleep a fixed time: on a loaded machine 300 ms
	// could pass before b's first answer was observed (a CI flake).
	var countB uint64
	for deadline := time.Now().Add(10 * time.Second); countB == 0; time.Sleep(10 * time.Millisecond) {
		if countB = durationHistogram(t, reg, "b").GetSampleCount(); countB == 0 && time.Now().After(deadline) {
			t.Fatal("probe b observed nothing in 10 s")
		}
	}
	pa, pb := proberOf(m, "a"), proberOf(m, "b")

	// A bad reload changes nothing.
	err := m.Apply([]ProbeConfig{a, {Name: "c", URL: "ftp://x/"}, {Name: "a", URL: srv.URL}})
	want := `eventloop probe "c": url must start with http:// or https://` + "\n" +
		`eventloop probe "a": name used twice`
	if err == nil || err.Error() != want {
		t.Errorf("bad reload: err = %v, want %q", err, want)
	}
	if proberOf(m, "a") != pa || proberOf(m, "b") != pb {
		t.Error("a rejected reload replaced running probers")
	}

	// Unchanged a keeps running, changed b restarts and keeps its series,
	// new c starts.
	b2 := b
	b2.Headers = map[string]string{"X-Probe": "2"}
	c := ProbeConfig{Name: "c", URL: srv.URL + "/c", Interval: 10 * time.Millisecond}
	if err := m.Apply([]ProbeConfig{a, b2, c}); err != nil {
		t.Fatal(err)
	}
	if proberOf(m, "a") != pa {
		t.Error("unchanged probe a was restarted")
	}
	if proberOf(m, "b") == pb {
		t.Error("changed probe b was not restarted")
	}
	if got := durationHistogram(t, reg, "b").GetSampleCount(); got < countB {
		t.Errorf("b's histogram went from %d to %d samples across a restart", countB, got)
	}

	// Removed probes lose their series.
	if err := m.Apply([]ProbeConfig{c}); err != nil {
		t.Fatal(err)
	}
	got := probeLabels(t, reg)
	for fam, probes := range got {
		if !slices.Equal(probes, []string{"c"}) {
			t.Errorf("%s has probes %v after reload to [c]", fam, probes)
		}
	}
	if err := m.Apply(nil); err != nil {
		t.Fatal(err)
	}
	if got := probeLabels(t, reg); len(got) != 0 {
		t.Errorf("series left after removing every probe: %v", got)
	}

	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) != 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}

	if err := m.Apply([]ProbeConfig{a}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	m.Stop()
	// No probe is sent after Stop returned. (A request cancelled by Stop
	// may still reach the handler a moment later: count from 100ms on; at
	// a 10ms interval a running probe would send about 20 in 200ms.)
	time.Sleep(100 * time.Millisecond)
	after := served.Load()
	time.Sleep(200 * time.Millisecond)
	if n := served.Load() - after; n != 0 {
		t.Errorf("%d probe requests reached the target after Stop returned", n)
	}
	// And no prober goroutine outlives it. One that
	// has run its deferred wg.Done may still be on its way out of the
	// function (seen on a loaded CI machine: "runnable" at the closing
	// brace), so give the scheduler a moment before calling it a leak.
	stacks := allStacks()
	for deadline := time.Now().Add(2 * time.Second); strings.Contains(stacks, "eventloop.(*prober)") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		stacks = allStacks()
	}
	if strings.Contains(stacks, "eventloop.(*prober)") {
		t.Errorf("prober goroutines still running 2s after Stop returned:\n%s", stacks)
	}
	m.Stop()
	if err := m.Apply([]ProbeConfig{a}); err == nil {
		t.Error("Apply after Stop succeeded")
	}
	srv.Close()
	goleak.VerifyNone(t, ignore)
}

// TestRequestShape checks what the target receives: the configured headers,
// basic auth from the URL, the exporter's user agent, and that a non-2xx
// answer is both observed and counted as a status failure.
func TestRequestShape(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		got *http.Request
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Clone(r.Context())
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/loop?x=1")
	u.User = url.UserPassword("probe", "s3cret")
	m, reg := startManager(t, ProbeConfig{
		Name: "shape", URL: u.String(), Interval: 10 * time.Millisecond,
		Headers: map[string]string{"host": "app.example", "X-Probe": "yes"},
	})
	time.Sleep(300 * time.Millisecond)
	m.Stop()

	mu.Lock()
	defer mu.Unlock()
	if got == nil {
		t.Fatal("the target received no request")
	}
	user, pw, ok := got.BasicAuth()
	switch {
	case got.Method != http.MethodGet || got.URL.RequestURI() != "/loop?x=1":
		t.Errorf("request %s %s, want GET /loop?x=1", got.Method, got.URL.RequestURI())
	case got.Host != "app.example":
		t.Errorf("Host = %q, want app.example", got.Host)
	case got.Header.Get("X-Probe") != "yes":
		t.Errorf("X-Probe = %q, want yes", got.Header.Get("X-Probe"))
	case !ok || user != "probe" || pw != "s3cret":
		t.Errorf("basic auth = %q %q %v, want the URL's user info", user, pw, ok)
	case !strings.HasPrefix(got.UserAgent(), "redline_exporter"):
		t.Errorf("User-Agent = %q", got.UserAgent())
	}
	h := durationHistogram(t, reg, "shape")
	f := failures(t, reg, "shape")
	if h.GetSampleCount() == 0 || float64(h.GetSampleCount()) != f[ReasonStatus] {
		t.Errorf("503 answers: %d observations, %v status failures; want equal and non-zero",
			h.GetSampleCount(), f[ReasonStatus])
	}
}
