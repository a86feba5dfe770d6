package web

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/deadline"
)

// Targets is the set of configured targets. A reload replaces the whole set
// at once (Swap), so a scrape sees either the old set or the new one, never
// a mix.
type Targets struct {
	current atomic.Pointer[map[string]*sharedTarget]
	logger  *slog.Logger
	// joined, when set (by tests), is called once a Collect has started or
	// joined its target's collection.
	joined func()
}

// NewTargets returns an empty set. A nil logger discards logs.
func NewTargets(logger *slog.Logger) *Targets {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := &Targets{logger: logger}
	empty := map[string]*sharedTarget{}
	t.current.Store(&empty)
	return t
}

// sharedTarget lets concurrent scrapes of one target share one collection:
// two Prometheus servers scraping at the same moment cost the database one
// set of queries.
type sharedTarget struct {
	target collector.Target
	logger *slog.Logger
	flight singleflight.Group
}

// Swap installs a new set of targets and returns the previous one, which
// the caller closes.
func (t *Targets) Swap(next map[string]collector.Target) map[string]collector.Target {
	prev := *t.current.Load()
	wrapped := make(map[string]*sharedTarget, len(next))
	for name, target := range next {
		// Keep the singleflight group of a target that survives a reload.
		if old, ok := prev[name]; ok && old.target == target {
			wrapped[name] = old
			continue
		}
		wrapped[name] = &sharedTarget{target: target, logger: t.logger.With("target", name)}
	}
	t.current.Store(&wrapped)
	out := make(map[string]collector.Target, len(prev))
	for name, s := range prev {
		out[name] = s.target
	}
	return out
}

// Names lists the configured targets, sorted.
func (t *Targets) Names() []string {
	m := *t.current.Load()
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Collect gathers one target's metrics, sharing a collection already in
// flight. The collection runs under the deadline of the scrape that started
// it, less a margin (deadline.Collection), so that what a target reports when
// it runs out of time (its up 0, success 0) reaches the caller before the
// caller's own deadline; it is not cancelled when that scrape's client goes
// away, because other scrapes may be waiting for it. A scrape that joins a
// collection gets its result if it ends in time; whatever the collection's
// deadline, Collect returns by ctx's, reporting the target down
// (collector.Complete) when the result is not there yet. Every answer
// carries the target's up metric and a success series for each of its
// collectors. ok is false for an unknown name.
func (t *Targets) Collect(ctx context.Context, name string) (metrics []prometheus.Metric, ok bool) {
	s, ok := (*t.current.Load())[name]
	if !ok {
		return nil, false
	}
	res := s.flight.DoChan("", func() (any, error) {
		runCtx := context.WithoutCancel(ctx)
		if end, has := ctx.Deadline(); has {
			var cancel context.CancelFunc
			runCtx, cancel = context.WithDeadline(runCtx, deadline.Collection(end))
			defer cancel()
		}
		return s.collect(runCtx), nil
	})
	if t.joined != nil {
		t.joined()
	}
	select {
	case r := <-res:
		return complete(s.target, r.Val.([]prometheus.Metric)), true
	case <-ctx.Done():
		return complete(s.target, nil), true
	}
}

// complete adds what the target failed to report (collector.Complete) for
// targets that say what they report.
func complete(t collector.Target, ms []prometheus.Metric) []prometheus.Metric {
	if r, ok := t.(collector.UpReporter); ok {
		return collector.Complete(r, ms)
	}
	return ms
}

// collect runs the target once and returns what it sent. A panic in the
// target (outside its collectors, which collector.Run guards) would
// otherwise be re-raised by singleflight and end the process: it is logged
// and the metrics sent before it are kept.
func (s *sharedTarget) collect(ctx context.Context) []prometheus.Metric {
	ch := make(chan prometheus.Metric)
	done := make(chan []prometheus.Metric)
	go func() {
		var ms []prometheus.Metric
		for m := range ch {
			ms = append(ms, m)
		}
		done <- ms
	}()
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.logger.Error("target collection panicked", "panic", fmt.Sprint(r))
			}
		}()
		s.target.Collect(ctx, ch)
	}()
	close(ch)
	return <-done
}

// labelled returns ms with a target="<name>" label, as
// prometheus.WrapCollectorWith would. The wrapper builds a new Desc each
// time a metric's Desc is asked for, which was a quarter of an
// exposition's CPU; here each distinct Desc is wrapped once per scrape.
func labelled(name string, ms []prometheus.Metric) metricsCollector {
	ch := make(chan prometheus.Metric, len(ms))
	prometheus.WrapCollectorWith(prometheus.Labels{"target": name}, metricsCollector(ms)).Collect(ch)
	close(ch)
	descs := make(map[*prometheus.Desc]*prometheus.Desc)
	out := make(metricsCollector, 0, len(ms))
	for _, m := range ms {
		w := <-ch // the wrapper sends ms in order
		d, ok := descs[m.Desc()]
		if !ok {
			d = w.Desc()
			descs[m.Desc()] = d
		}
		out = append(out, describedMetric{Metric: w, desc: d})
	}
	return out
}

// describedMetric is a metric whose Desc was computed once.
type describedMetric struct {
	prometheus.Metric
	desc *prometheus.Desc
}

func (m describedMetric) Desc() *prometheus.Desc { return m.desc }

// metricsCollector replays metrics already collected, so they can be
// registered under a target label for one exposition.
type metricsCollector []prometheus.Metric

// Describe sends nothing: the collector is unchecked, its series vary by
// target and scrape.
func (metricsCollector) Describe(chan<- *prometheus.Desc) {}

func (m metricsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, x := range m {
		ch <- x
	}
}
