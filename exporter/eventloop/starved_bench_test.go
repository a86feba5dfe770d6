//go:build unix

package eventloop

import (
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkStarvedExporter measures how a starved exporter inflates its own
// probe durations against a no-op target in another process, which is not
// starved: the exporter runs on one P beside busy goroutines, and the
// reported P95s show how far the probe durations and the timer lag move
// together. It is what the platform spec's 10ms timer-lag guard on the
// event-loop lag rests on (docs/eventloop.md).
//
//	go test -run '^$' -bench StarvedExporter -benchtime 1x ./exporter/eventloop/
func BenchmarkStarvedExporter(b *testing.B) {
	addr := startNoopProcess(b)
	for _, busy := range []int{0, 1, 2, 4} {
		b.Run("busy-"+strconv.Itoa(busy), func(b *testing.B) {
			for range b.N {
				probe, lag := starvedRun(b, addr, busy, 3*time.Second)
				b.ReportMetric(probe*1000, "probe-p95-ms")
				b.ReportMetric(lag*1000, "timerlag-p95-ms")
			}
		})
	}
}

// starvedRun probes addr for d with the process on one P beside busy
// spinning goroutines and returns the probe and timer-lag P95s.
func starvedRun(b *testing.B, addr string, busy int, d time.Duration) (probe, lag float64) {
	reg := prometheus.NewRegistry()
	m := NewManager(reg, nil)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range busy {
		wg.Go(func() {
			for !stop.Load() {
				// spins until the scheduler preempts it (about every 10ms)
			}
		})
	}
	if err := m.Apply([]ProbeConfig{{Name: "noop", URL: "http://" + addr + "/", Interval: 10 * time.Millisecond}}); err != nil {
		b.Fatal(err)
	}
	time.Sleep(d)
	m.Stop()
	stop.Store(true)
	wg.Wait()
	return classicQuantile(0.95, durationHistogram(b, reg, "noop")), classicQuantile(0.95, timerLagHistogram(b, reg))
}
