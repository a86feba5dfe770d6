package web

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/redline-sre/redline/exporter/collector"
)

var fakeUpDesc = prometheus.NewDesc("fake_up", "1 when the fake target answered.", nil, nil)

// stuckTarget never answers: like a real target against a blackholed
// server, it reports up 0 only when its context ends.
type stuckTarget struct{}

func (stuckTarget) Collect(ctx context.Context, ch chan<- prometheus.Metric) {
	<-ctx.Done()
	ch <- prometheus.MustNewConstMetric(fakeUpDesc, prometheus.GaugeValue, 0)
}

func (stuckTarget) Close() {}

// upValue returns the fake_up value among ms, or -1 when it is missing.
func upValue(t *testing.T, ms []prometheus.Metric) float64 {
	t.Helper()
	for _, m := range ms {
		if m.Desc() != fakeUpDesc {
			continue
		}
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		return pb.GetGauge().GetValue()
	}
	return -1
}

// A target that runs out of time reports up 0 at its deadline; that report
// must reach the scrape, whose deadline is the same instant. stuckTarget is
// no UpReporter, so this is the collection margin at work, not collector.Complete. The
// 3s deadline gives the margin a scrape timeout of a few seconds has
// (150ms); a shorter one made the test a scheduling race on a loaded
// machine.
func TestTimedOutScrapeKeepsUpZero(t *testing.T) {
	t.Parallel()
	const n = 50
	targets := map[string]collector.Target{}
	for i := range n {
		targets[fmt.Sprint("t", i)] = stuckTarget{}
	}
	set := NewTargets(quiet())
	set.Swap(targets)
	var wg sync.WaitGroup
	ups := make([]float64, n)
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			ms, _ := set.Collect(ctx, fmt.Sprint("t", i))
			ups[i] = upValue(t, ms)
		})
	}
	wg.Wait()
	for i, up := range ups {
		if up != 0 {
			t.Errorf("timed-out scrape %d: fake_up = %g, want 0 (-1: missing)", i, up)
		}
	}
}

// panicTarget panics in Collect itself, outside any collector.
type panicTarget struct{}

func (panicTarget) Collect(_ context.Context, ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(fakeUpDesc, prometheus.GaugeValue, 1)
	panic("broken label value")
}

func (panicTarget) Close() {}

func TestTargetPanicDoesNotCrash(t *testing.T) {
	set := NewTargets(quiet())
	set.Swap(map[string]collector.Target{"p": panicTarget{}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ms, ok := set.Collect(ctx, "p")
	if !ok || upValue(t, ms) != 1 {
		t.Errorf("after a panic: ok %v, metrics %v; want the metrics sent before it", ok, ms)
	}
}

// brokenTarget has an up metric (collector.UpReporter) but panics, or hangs
// ignoring its context, before it sends it.
type brokenTarget struct{ hang chan struct{} }

func (b brokenTarget) Collect(context.Context, chan<- prometheus.Metric) {
	if b.hang != nil {
		<-b.hang
		return
	}
	panic("nil map in discovery")
}

func (brokenTarget) Close()                   {}
func (brokenTarget) UpDesc() *prometheus.Desc { return fakeUpDesc }
func (brokenTarget) Collectors() []string     { return nil }

// A target that read nothing must still say it is down: the up metric is
// what the unreachable-target alerts watch.
func TestBrokenTargetReportsUpZero(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	set := NewTargets(quiet())
	set.Swap(map[string]collector.Target{"panics": brokenTarget{}, "hangs": brokenTarget{hang: hang}})
	for _, name := range []string{"panics", "hangs"} {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		ms, ok := set.Collect(ctx, name)
		cancel()
		if !ok || upValue(t, ms) != 0 {
			t.Errorf("%s: ok %v, fake_up %v (-1: missing), want 0", name, ok, upValue(t, ms))
		}
	}
}

// lateTarget sends metrics once released, then panics before its up
// metric: every scrape that joined the collection gets up 0 added.
type lateTarget struct{ release chan struct{} }

func (l lateTarget) Collect(_ context.Context, ch chan<- prometheus.Metric) {
	<-l.release
	// Three metrics: the collected slice then has room to spare, which is
	// what an append by each scrape would write into.
	d := prometheus.NewDesc("fake_value", "A value.", []string{"n"}, nil)
	for _, n := range []string{"1", "2", "3"} {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1, n)
	}
	panic("after three metrics")
}

func (lateTarget) Close()                   {}
func (lateTarget) UpDesc() *prometheus.Desc { return fakeUpDesc }
func (lateTarget) Collectors() []string     { return nil }

// Scrapes that share a collection must not share the slice they add up 0
// to (run with -race: appending to the shared result raced).
func TestJoinedScrapesAddUpZeroApart(t *testing.T) {
	target := lateTarget{release: make(chan struct{})}
	set := NewTargets(quiet())
	set.Swap(map[string]collector.Target{"late": target})
	var joined atomic.Int32
	set.joined = func() { joined.Add(1) }
	const n = 8
	var wg sync.WaitGroup
	ups := make([]float64, n)
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ms, _ := set.Collect(ctx, "late")
			ups[i] = upValue(t, ms)
		})
	}
	waitFor(t, "all scrapes to join the collection", func() bool { return joined.Load() == n })
	close(target.release)
	wg.Wait()
	for i, up := range ups {
		if up != 0 {
			t.Errorf("scrape %d: fake_up = %g, want 0 (-1: missing)", i, up)
		}
	}
}
