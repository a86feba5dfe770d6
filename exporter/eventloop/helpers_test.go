package eventloop

import (
	"log/slog"
	"math"
	"net"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// startManager returns a manager on a fresh registry, stopped at cleanup.
func startManager(t testing.TB, probes ...ProbeConfig) (*Manager, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := NewManager(reg, testLogger(t))
	t.Cleanup(m.Stop)
	if err := m.Apply(probes); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return m, reg
}

// family returns the gathered metric family name, or nil.
func family(t testing.TB, reg prometheus.Gatherer, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// labelsMatch reports whether m carries every label of want.
func labelsMatch(m *dto.Metric, want map[string]string) bool {
	found := 0
	for _, lp := range m.GetLabel() {
		if v, ok := want[lp.GetName()]; ok {
			if v != lp.GetValue() {
				return false
			}
			found++
		}
	}
	return found == len(want)
}

func durationHistogram(t testing.TB, reg prometheus.Gatherer, probe string) *dto.Histogram {
	t.Helper()
	mf := family(t, reg, "redline_eventloop_probe_duration_seconds")
	if mf != nil {
		for _, m := range mf.GetMetric() {
			if labelsMatch(m, map[string]string{"probe": probe}) {
				return m.GetHistogram()
			}
		}
	}
	t.Fatalf("no duration histogram for probe %q", probe)
	return nil
}

func timerLagHistogram(t testing.TB, reg prometheus.Gatherer) *dto.Histogram {
	t.Helper()
	mf := family(t, reg, "redline_timer_lag_seconds")
	if mf == nil || len(mf.GetMetric()) != 1 {
		t.Fatalf("redline_timer_lag_seconds: want one series, got %v", mf)
	}
	return mf.GetMetric()[0].GetHistogram()
}

// failures returns the probe's failure counters by reason.
func failures(t testing.TB, reg prometheus.Gatherer, probe string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	mf := family(t, reg, "redline_eventloop_probe_failures_total")
	if mf == nil {
		return out
	}
	for _, m := range mf.GetMetric() {
		if !labelsMatch(m, map[string]string{"probe": probe}) {
			continue
		}
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "reason" {
				out[lp.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// classicQuantile estimates quantile q from the classic buckets the way
// PromQL's histogram_quantile does: linear interpolation inside the bucket
// that holds the rank, the first bucket starting at 0.
func classicQuantile(q float64, h *dto.Histogram) float64 {
	count := float64(h.GetSampleCount())
	if count == 0 {
		return math.NaN()
	}
	rank := q * count
	lower, below := 0.0, 0.0
	for _, b := range h.GetBucket() {
		upper, cum := b.GetUpperBound(), float64(b.GetCumulativeCount())
		if cum >= rank {
			if cum == below {
				return upper
			}
			return lower + (upper-lower)*(rank-below)/(cum-below)
		}
		lower, below = upper, cum
	}
	return lower // the rank is in the +Inf bucket
}

// nativeQuantile estimates quantile q from the native (exponential) buckets
// of a histogram of non-negative values, interpolating linearly inside the
// bucket that holds the rank.
func nativeQuantile(q float64, h *dto.Histogram) float64 {
	count := float64(h.GetSampleCount())
	if count == 0 || len(h.GetPositiveSpan()) == 0 {
		return math.NaN()
	}
	base := math.Pow(2, math.Pow(2, -float64(h.GetSchema())))
	rank := q * count
	cum := float64(h.GetZeroCount())
	if cum >= rank {
		return h.GetZeroThreshold()
	}
	deltas := h.GetPositiveDelta()
	idx, n, d := int32(0), int64(0), 0
	for i, span := range h.GetPositiveSpan() {
		if i == 0 {
			idx = span.GetOffset()
		} else {
			idx += span.GetOffset()
		}
		for range span.GetLength() {
			n += deltas[d]
			d++
			if cum+float64(n) >= rank {
				lower, upper := math.Pow(base, float64(idx-1)), math.Pow(base, float64(idx))
				return lower + (upper-lower)*(rank-cum)/float64(n)
			}
			cum += float64(n)
			idx++
		}
	}
	return math.NaN()
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// settledGoroutines waits until the goroutine count is at most want and
// returns the last count seen.
func settledGoroutines(want int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requests returns the probe's redline_eventloop_probe_requests_total.
func requests(t testing.TB, reg prometheus.Gatherer, probe string) float64 {
	t.Helper()
	if mf := family(t, reg, "redline_eventloop_probe_requests_total"); mf != nil {
		for _, m := range mf.GetMetric() {
			if labelsMatch(m, map[string]string{"probe": probe}) {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no requests counter for probe %q", probe)
	return 0
}

// startReferenceTimer runs a plain timer loop in the test process, beside
// the prober, ticking every interval until stop, which returns the P95 of
// its lateness in seconds: what the machine and the Go scheduler alone did
// to timers meanwhile. A prober whose ticks were late while this one's were
// not has a scheduling problem of its own, which must fail a test rather
// than skip it as a starved machine.
func startReferenceTimer(interval time.Duration) (stop func() float64) {
	done := make(chan struct{})
	lags := make(chan []float64, 1)
	go func() {
		var ls []float64
		timer := time.NewTimer(interval)
		defer timer.Stop()
		for {
			at := time.Now().Add(interval)
			timer.Reset(interval)
			select {
			case <-done:
				lags <- ls
				return
			case <-timer.C:
			}
			ls = append(ls, max(0, time.Since(at).Seconds()))
		}
	}()
	return func() float64 {
		close(done)
		ls := <-lags
		if len(ls) == 0 {
			return 0
		}
		slices.Sort(ls)
		return ls[int(math.Ceil(0.95*float64(len(ls))))-1]
	}
}

// machineStarved is the reference timer's P95 lateness above which an
// attempt says nothing about the prober: every timer of the process ran
// late.
const machineStarved = 0.002
