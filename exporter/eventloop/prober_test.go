package eventloop

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/redline-sre/redline/internal/testenv"
)

// blockedLoop is a stand-in for a Node.js process whose event loop is
// blocked for hold out of every period: its handler runs behind one lock,
// and a background goroutine holds that lock for hold at the start of every
// period. A request arriving at a random moment waits for the rest of the
// hold, so with 100 ms out of every second 10% of requests wait 0–100 ms and
// the true P95 of the wait is 50 ms.
type blockedLoop struct {
	mu    sync.Mutex
	holds []time.Duration // actual lengths of the holds, for the test log

	waitsMu sync.Mutex
	waits   []time.Duration // each request's wait for the lock, server side
}

// startBlockedLoop starts the stand-in; the returned stop ends it (also
// run at cleanup, stop is idempotent).
func startBlockedLoop(t *testing.T, hold, period time.Duration) (*httptest.Server, *blockedLoop, func()) {
	t.Helper()
	b := &blockedLoop{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived := time.Now()
		b.mu.Lock() // wait for the "event loop"
		w.WriteHeader(http.StatusNoContent)
		b.mu.Unlock()
		b.waitsMu.Lock()
		b.waits = append(b.waits, time.Since(arrived))
		b.waitsMu.Unlock()
	}))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		next := time.Now()
		timer := time.NewTimer(0)
		defer timer.Stop()
		for {
			select {
			case <-done:
				return
			case <-timer.C:
			}
			b.mu.Lock()
			start := time.Now()
			end := start.Add(hold)
			// Sleep most of the hold, then spin: a timer woken late on a
			// busy machine would lengthen the hold and move the true P95.
			time.Sleep(hold - 10*time.Millisecond)
			for time.Now().Before(end) {
				runtime.Gosched()
			}
			held := time.Since(start)
			b.holds = append(b.holds, held)
			b.mu.Unlock()
			// Periods are anchored to the first one, so a late hold does
			// not stretch the period on average.
			next = next.Add(period)
			timer.Reset(time.Until(next))
		}
	})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			srv.Close()
		})
	}
	t.Cleanup(stop)
	return srv, b, stop
}

// serverP95 is the exact P95 of the waits the server saw: what the probe's
// P95 estimates, minus the loopback floor and the bucket interpolation.
func (b *blockedLoop) serverP95() time.Duration {
	b.waitsMu.Lock()
	defer b.waitsMu.Unlock()
	if len(b.waits) == 0 {
		return 0
	}
	w := slices.Clone(b.waits)
	slices.Sort(w)
	return w[int(math.Ceil(0.95*float64(len(w))))-1]
}

func (b *blockedLoop) meanHold() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.holds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, h := range b.holds {
		sum += h
	}
	return sum / time.Duration(len(b.holds))
}

// TestBlockedLoopP95 is the acceptance test: a target blocked 100 ms
// out of every second has a true P95 wait of 50 ms, and the P95 from the
// histogram's buckets must be within ±20% of it.
//
// The probe runs at 10 ms instead of the 50 ms default: over 10 s that is
// 1000 samples, of which about 50 land in the 50 ms of each second where
// the wait exceeds 50 ms. With 200 samples the estimate's spread is near
// ±20% by chance alone; with 1000 it is about ±5%. The in-flight cap is
// raised to 20 because a 100 ms stall holds 10 requests at this rate: an
// inflight_cap skip would drop exactly the samples that wait. Not parallel:
// other tests' CPU use would add their own delay to the blocked samples.
//
// Like TestIdleTargetP95, an attempt in which the machine was starved of
// CPU is repeated, up to three times, instead of judged — but only when a
// plain timer running beside the prober (startReferenceTimer) was late too;
// late prober ticks beside an on-time reference fail the test: the exporter's
// timer lag P95 over 5 ms (its ticks, and so its samples, came late), or the
// server's own measured P95 wait more than 10% away from 50 ms (the stalls
// were not what the test means to produce). An attempt that is neither must
// meet every bound.
func TestBlockedLoopP95(t *testing.T) {
	const attempts = 3
	for attempt := 1; ; attempt++ {
		srv, loop, stopLoop := startBlockedLoop(t, 100*time.Millisecond, time.Second)
		reg := prometheus.NewRegistry()
		m := NewManager(reg, testLogger(t))
		stopRef := startReferenceTimer(10 * time.Millisecond)
		if err := m.Apply([]ProbeConfig{{
			Name: "blocked", URL: srv.URL + "/loop",
			Interval: 10 * time.Millisecond, Timeout: time.Second, MaxInFlight: 20,
		}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second)
		m.Stop()
		refLag95 := stopRef()
		stopLoop()

		h := durationHistogram(t, reg, "blocked")
		lag := timerLagHistogram(t, reg)
		p95, native95 := classicQuantile(0.95, h), nativeQuantile(0.95, h)
		lag95 := classicQuantile(0.95, lag)
		t.Logf("attempt %d: samples=%d classic P95=%.1fms native P95=%.1fms server-side P95=%s mean hold=%s timer lag P95=%.2fms (reference %.2fms) failures=%v",
			attempt, h.GetSampleCount(), p95*1000, native95*1000, loop.serverP95(), loop.meanHold(),
			lag95*1000, refLag95*1000, failures(t, reg, "blocked"))
		if lag95 > 0.005 && refLag95 <= machineStarved {
			t.Fatalf("the prober's ticks ran late (P95 %.2f ms) while a plain timer beside it ran on time (P95 %.2f ms): the prober's scheduling regressed",
				lag95*1000, refLag95*1000)
		}
		// The server's own record says whether the attempt produced the
		// intended stalls: on a starved machine its waits stretch too.
		serverOff := math.Abs(loop.serverP95().Seconds()-0.05) > 0.005
		if lag95 > 0.005 || serverOff {
			if attempt < attempts {
				continue
			}
			t.Skipf("the machine was starved of CPU in all %d attempts (timer lag P95 %.2f ms, server-side P95 %s): "+
				"the blocked loop's P95 cannot be measured on this machine now", attempts, lag95*1000, loop.serverP95())
		}
		checkBlockedLoop(t, h, reg, p95, native95)
		return
	}
}

// checkBlockedLoop judges one attempt of TestBlockedLoopP95 whose timers
// were on time.
func checkBlockedLoop(t *testing.T, h *dto.Histogram, reg prometheus.Gatherer, p95, native95 float64) {
	t.Helper()
	if n := h.GetSampleCount(); n < 700 {
		t.Fatalf("only %d samples in 10 s at 10 ms (want ≥ 700) although timers were on time: the prober fell behind", n)
	}
	for reason, v := range failures(t, reg, "blocked") {
		if v != 0 {
			t.Errorf("failures{reason=%q} = %v, want 0", reason, v)
		}
	}
	const truth = 0.050
	if math.Abs(p95-truth) > 0.2*truth {
		t.Errorf("P95 from classic buckets = %.1f ms, want 50 ms ± 20%%", p95*1000)
	}
	if math.Abs(native95-truth) > 0.2*truth {
		t.Errorf("P95 from native buckets = %.1f ms, want 50 ms ± 20%%", native95*1000)
	}
	// le="0.05" is an exact bound: the share at or under 50 ms is read off
	// one bucket. The truth is 95%.
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == 0.05 {
			share := float64(b.GetCumulativeCount()) / float64(h.GetSampleCount())
			if share < 0.93 || share > 0.97 {
				t.Errorf("share of samples ≤ 50 ms = %.3f, want 0.95 ± 0.02", share)
			}
		}
	}
}

// TestIdleTargetP95 probes a target that answers at once: only the loopback
// floor is measured, and its P95 must stay under 5 ms.
//
// On a shared, overloaded machine the exporter's own goroutines can wait
// milliseconds for a CPU, and a response read late is measured late: that is
// the exporter starving, not the target lagging, and
// redline_timer_lag_seconds shows it. An attempt in which more than 5% of
// the exporter's ticks fired over 5 ms late (timer lag P95 > 5 ms) is
// therefore repeated, up to three times, instead of judged, when a plain
// timer beside the prober (startReferenceTimer) was late too: the machine
// was starved. Late prober ticks beside an on-time reference are the
// prober's own regression and fail. An attempt with timers on time must
// meet the 5 ms bound.
func TestIdleTargetP95(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)

	const attempts = 3
	for attempt := 1; ; attempt++ {
		reg := prometheus.NewRegistry()
		m := NewManager(reg, testLogger(t))
		stopRef := startReferenceTimer(10 * time.Millisecond)
		if err := m.Apply([]ProbeConfig{{Name: "idle", URL: srv.URL, Interval: 10 * time.Millisecond}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		m.Stop()
		refLag95 := stopRef()

		h := durationHistogram(t, reg, "idle")
		p95 := classicQuantile(0.95, h)
		lag95 := classicQuantile(0.95, timerLagHistogram(t, reg))
		t.Logf("attempt %d: samples=%d P95=%.2fms timer lag P95=%.2fms (reference %.2fms)", attempt, h.GetSampleCount(), p95*1000, lag95*1000, refLag95*1000)
		if lag95 > 0.005 && refLag95 <= machineStarved {
			t.Fatalf("the prober's ticks ran late (P95 %.2f ms) while a plain timer beside it ran on time (P95 %.2f ms): the prober's scheduling regressed",
				lag95*1000, refLag95*1000)
		}
		if lag95 > 0.005 {
			if attempt < attempts {
				continue
			}
			t.Skipf("the exporter was starved of CPU in all %d attempts (timer lag P95 %.2f ms): "+
				"the loopback floor cannot be measured on this machine now", attempts, lag95*1000)
		}
		if h.GetSampleCount() < 200 {
			t.Fatalf("only %d samples in 3 s at 10 ms although timers were on time", h.GetSampleCount())
		}
		if p95 >= 0.005 {
			t.Errorf("idle target P95 = %.2f ms, want < 5 ms", p95*1000)
		}
		for reason, v := range failures(t, reg, "idle") {
			if v != 0 {
				t.Errorf("failures{reason=%q} = %v, want 0", reason, v)
			}
		}
		return
	}
}

// TestHangingTarget: a target that never answers yields one observation at
// the timeout per request, and never more requests outstanding than the cap.
func TestHangingTarget(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		received.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close

	const (
		timeout = 200 * time.Millisecond
		maxIn   = 3
	)
	m, reg := startManager(t, ProbeConfig{
		Name: "hang", URL: srv.URL, Interval: 20 * time.Millisecond, Timeout: timeout, MaxInFlight: maxIn,
	})
	start := time.Now()
	time.Sleep(2 * time.Second)
	peak := proberOf(m, "hang").peakRunning.Load()
	m.Stop()
	elapsed := time.Since(start)

	h := durationHistogram(t, reg, "hang")
	f := failures(t, reg, "hang")
	t.Logf("observations=%d sum=%.3fs failures=%v peak in flight=%d server received=%d",
		h.GetSampleCount(), h.GetSampleSum(), f, peak, received.Load())

	if peak > maxIn {
		t.Errorf("peak in-flight requests = %d, cap is %d", peak, maxIn)
	}
	n := h.GetSampleCount()
	if n == 0 || float64(n) != f[ReasonTimeout] {
		t.Errorf("observations = %d, timeouts = %v: want equal and non-zero", n, f[ReasonTimeout])
	}
	if want := float64(n) * timeout.Seconds(); math.Abs(h.GetSampleSum()-want) > 1e-9 {
		t.Errorf("sum of observations = %v, want %v (every one at the timeout)", h.GetSampleSum(), want)
	}
	// Each of the maxIn workers completes at most one timeout per timeout
	// period; without the cap a 20 ms interval would time out ~5× as often.
	if limit := maxIn * int(elapsed/timeout); n > uint64(limit) {
		t.Errorf("%d timeouts in %s exceed what %d in-flight requests allow (%d)", n, elapsed, maxIn, limit)
	}
	if f[ReasonInflightCap] == 0 {
		t.Error("no inflight_cap failures although every request hung")
	}
	if f[ReasonConnect] != 0 || f[ReasonStatus] != 0 {
		t.Errorf("unexpected failures %v", f)
	}
}

// TestDeadTarget probes a closed port for 10 s: every request is a connect
// failure, nothing is observed, the metrics endpoint keeps serving and the
// goroutine count stays flat. Not parallel: it counts the process's
// goroutines.
func TestDeadTarget(t *testing.T) {
	before := runtime.NumGoroutine()
	m, reg := startManager(t, ProbeConfig{Name: "dead", URL: "http://" + closedPort(t) + "/loop"})
	metricsSrv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))

	var counts []int
	for range 10 {
		time.Sleep(time.Second)
		resp, err := http.Get(metricsSrv.URL)
		if err != nil {
			t.Fatalf("metrics endpoint: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK ||
			!strings.Contains(string(body), `redline_eventloop_probe_failures_total{probe="dead",reason="connect"}`) {
			t.Fatalf("metrics endpoint: status %d, body without the connect failures:\n%s", resp.StatusCode, body)
		}
		counts = append(counts, runtime.NumGoroutine())
	}
	f := failures(t, reg, "dead")
	t.Logf("failures=%v goroutines per second=%v", f, counts)

	// 10 s at 50 ms is 200 ticks; refused connections return at once.
	if f[ReasonConnect] < 150 {
		t.Errorf("connect failures = %v after 10 s at 50 ms, want ≥ 150", f[ReasonConnect])
	}
	if f[ReasonTimeout] != 0 || f[ReasonStatus] != 0 || f[ReasonInflightCap] != 0 {
		t.Errorf("unexpected failures %v", f)
	}
	if n := durationHistogram(t, reg, "dead").GetSampleCount(); n != 0 {
		t.Errorf("%d observations for a target that never answered, want 0", n)
	}
	// Flat after the first second: a leak of one goroutine per request
	// would add ~20 per second.
	for i, n := range counts[1:] {
		if n > counts[0]+2 {
			t.Errorf("goroutines grew from %d to %d by second %d", counts[0], n, i+2)
		}
	}

	m.Stop()
	metricsSrv.Close()
	http.DefaultClient.CloseIdleConnections()
	if n := settledGoroutines(before, 2*time.Second); n > before {
		var sb strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&sb, 1)
		t.Errorf("%d goroutines after Stop, %d before start:\n%s", n, before, sb.String())
	}
}

// TestEveryRequestIsCounted probes real peers that refuse or reset every
// connection, and one that answers. A refused or reset request records no
// duration, so the duration histogram alone shows such a target as idle;
// redline_eventloop_probe_requests_total is what makes it 100% failures:
// every request sent ends as an observation or a connect failure (up to
// the requests cut short by Stop).
func TestEveryRequestIsCounted(t *testing.T) {
	t.Parallel()
	answers := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(answers.Close)
	const maxIn = 4
	for _, c := range []struct {
		name, addr string
		failing    bool
	}{
		{"refused", closedPort(t), true},
		{"reset-on-accept", testenv.ResettingListener(t, false), true},
		{"reset-after-request", testenv.ResettingListener(t, true), true},
		{"answers", strings.TrimPrefix(answers.URL, "http://"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, reg := startManager(t, ProbeConfig{
				Name: c.name, URL: "http://" + c.addr + "/loop", Interval: 20 * time.Millisecond, MaxInFlight: maxIn,
			})
			// Wait for a count, not for a time: a loaded CI machine sends
			// fewer requests per second.
			deadline := time.Now().Add(30 * time.Second)
			for requests(t, reg, c.name) < 50 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			m.Stop()

			sent := requests(t, reg, c.name)
			f := failures(t, reg, c.name)
			observed := float64(durationHistogram(t, reg, c.name).GetSampleCount())
			t.Logf("requests=%v observed=%v failures=%v", sent, observed, f)
			if sent < 50 {
				t.Fatalf("only %v requests sent in 30 s at a 20 ms interval", sent)
			}
			ended := observed + f[ReasonConnect]
			if ended > sent || sent-ended > maxIn {
				t.Errorf("requests=%v but observations+connect failures=%v: every request sent but at most %d cut short by Stop must end as one or the other", sent, ended, maxIn)
			}
			if c.failing {
				if observed != 0 {
					t.Errorf("%v observations from a peer that never answered, want 0", observed)
				}
				if ratio := f[ReasonConnect] / sent; ratio < 0.9 {
					t.Errorf("connect failures / requests = %.3f, want ≥ 0.9 for a peer that fails every connection", ratio)
				}
			} else if f[ReasonConnect] != 0 {
				t.Errorf("%v connect failures from a peer that answers", f[ReasonConnect])
			}
			if f[ReasonTimeout] != 0 || f[ReasonStatus] != 0 {
				t.Errorf("unexpected failures %v", f)
			}
		})
	}
}
