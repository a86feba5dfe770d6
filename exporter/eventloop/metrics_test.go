package eventloop

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestDurationBuckets pins the classic bounds that rules compare against.
func TestDurationBuckets(t *testing.T) {
	for _, b := range []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1} {
		if !slices.Contains(durationBuckets, b) {
			t.Errorf("classic buckets %v lack the exact bound %v", durationBuckets, b)
		}
	}
}

// TestTimerLagShowsStarvation starves the exporter on purpose: one P and
// busy goroutines competing with the prober. The timer-lag histogram must
// show ticks firing late, which is how a starved exporter is told apart
// from a lagging target. Not parallel: it changes GOMAXPROCS.
func TestTimerLagShowsStarvation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	m, reg := startManager(t, ProbeConfig{Name: "starved", URL: srv.URL, Interval: 10 * time.Millisecond})

	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			x := 0
			for !stop.Load() {
				x++ // runs until the scheduler preempts it (every ~10 ms)
			}
			_ = x
		})
	}
	time.Sleep(1500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	m.Stop()

	lag := timerLagHistogram(t, reg)
	p90 := classicQuantile(0.9, lag)
	t.Logf("ticks=%d timer lag P90=%.2fms probe P90=%.2fms", lag.GetSampleCount(), p90*1000,
		classicQuantile(0.9, durationHistogram(t, reg, "starved"))*1000)
	if lag.GetSampleCount() == 0 {
		t.Fatal("no ticks recorded")
	}
	if p90 < 0.005 {
		t.Errorf("timer lag P90 = %.2f ms with four busy goroutines on one P, want ≥ 5 ms", p90*1000)
	}
}

// TestMetricsLintClean lints every event-loop family with a probe running
// and failing, so each family has series: names, units and help pass
// promlint.
func TestMetricsLintClean(t *testing.T) {
	t.Parallel()
	m, reg := startManager(t, ProbeConfig{Name: "lint", URL: "http://" + closedPort(t) + "/loop", Interval: 10 * time.Millisecond})
	deadline := time.Now().Add(20 * time.Second)
	for requests(t, reg, "lint") == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	m.Stop()
	for _, name := range []string{"redline_eventloop_probe_duration_seconds", "redline_eventloop_probe_requests_total",
		"redline_eventloop_probe_failures_total", "redline_timer_lag_seconds"} {
		if family(t, reg, name) == nil {
			t.Errorf("%s not gathered", name)
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) != 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}
