package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/internal/testenv"
)

// targetCollector adapts a Target to prometheus.Collector so a registry can
// gather it the way the HTTP layer will: one Collect per scrape, under a
// deadline. It is unchecked (no Describe), as the series vary.
type targetCollector struct {
	target  collector.Target
	timeout time.Duration
}

func (c targetCollector) Describe(chan<- *prometheus.Desc) {}

func (c targetCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.target.Collect(ctx, ch)
}

// scraped is one scrape's series, by name.
type scraped struct {
	families map[string]*dto.MetricFamily
	took     time.Duration
}

// scrapeTarget gathers one scrape of target with the given deadline. It
// may run in any goroutine.
func scrapeTarget(t testing.TB, target collector.Target, timeout time.Duration) *scraped {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(targetCollector{target: target, timeout: timeout})
	start := time.Now()
	mfs, err := reg.Gather()
	took := time.Since(start)
	if err != nil {
		// Errorf, not Fatalf: scrapes also run in goroutines.
		t.Errorf("gather: %v", err)
	}
	s := &scraped{families: map[string]*dto.MetricFamily{}, took: took}
	for _, mf := range mfs {
		s.families[mf.GetName()] = mf
	}
	return s
}

// series returns the values of name whose labels include want (given as
// name, value pairs), keyed by their full label set.
func (s *scraped) series(name string, want ...string) map[string]float64 {
	out := map[string]float64{}
	mf := s.families[name]
	if mf == nil {
		return out
	}
next:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		var parts []string
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
			parts = append(parts, lp.GetName()+"="+lp.GetValue())
		}
		for i := 0; i+1 < len(want); i += 2 {
			if labels[want[i]] != want[i+1] {
				continue next
			}
		}
		sort.Strings(parts)
		v := m.GetGauge().GetValue()
		if m.Counter != nil {
			v = m.GetCounter().GetValue()
		}
		out[strings.Join(parts, ",")] = v
	}
	return out
}

// value returns the single series of name matching the labels; it fails the
// test when there is not exactly one.
func (s *scraped) value(t testing.TB, name string, want ...string) float64 {
	t.Helper()
	got := s.series(name, want...)
	if len(got) != 1 {
		t.Fatalf("%s%v: %d series, want 1: %v", name, want, len(got), got)
	}
	for _, v := range got {
		return v
	}
	return 0
}

// has reports whether any series of name matches the labels.
func (s *scraped) has(name string, want ...string) bool { return len(s.series(name, want...)) > 0 }

// requireSuccess fails the test unless every listed collector succeeded.
func (s *scraped) requireSuccess(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if v := s.value(t, "redline_collector_success", "collector", n); v != 1 {
			t.Errorf("collector %s: success = %v", n, v)
		}
	}
}

// allCollectors are this package's collector names.
func allCollectors() []string {
	var names []string
	for _, c := range collectors {
		names = append(names, c.name)
	}
	return names
}

// newTarget makes a Target for a test and closes it at the end.
func newTarget(t testing.TB, opts Options) *Target {
	t.Helper()
	target, err := NewTarget(opts, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(target.Close)
	return target
}

// testLogger sends the target's log to the test log, so failures explain
// themselves (and tests can check what is logged).
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, nil))
}

// testWriter drops what background work logs after the test ended
// (t.Log would panic then).
type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// mustExec runs SQL as the superuser in db.
func mustExec(t testing.TB, pg *testenv.Postgres, db string, sql ...string) {
	t.Helper()
	if err := pg.Exec(context.Background(), db, sql...); err != nil {
		t.Fatal(err)
	}
}

// near reports whether got is within tol of want.
func near(got, want, tol float64) bool { return got >= want-tol && got <= want+tol }

func fmtSeries(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "\n  {%s} %v", k, m[k])
	}
	return sb.String()
}

// slogTo logs text to w (for tests that inspect the log).
func slogTo(w *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(&lockedWriter{w: w}, nil))
}

type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// flushStats is a statement that makes this session's table statistics
// visible at once: pg_stat_force_next_flush() from PostgreSQL 15, whose
// statistics live in shared memory. Before 15 a session sends them to the
// statistics collector when it ends, which mustExec's does; callers poll.
func flushStats(pg *testenv.Postgres) string {
	if pg.Version >= 150000 {
		return "SELECT pg_stat_force_next_flush()"
	}
	return "SELECT 1"
}
