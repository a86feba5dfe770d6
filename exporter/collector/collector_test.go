package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// The collectors here are functions: Run's contract (what is forwarded,
// what is reported) does not depend on what a collector reads.

type collectorFunc func(ctx context.Context, ch chan<- prometheus.Metric) error

func (f collectorFunc) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	return f(ctx, ch)
}

var valueDesc = prometheus.NewDesc("test_value", "A test value.", []string{"db"}, nil)

func value(db string, v float64) prometheus.Metric {
	return prometheus.MustNewConstMetric(valueDesc, prometheus.GaugeValue, v, db)
}

// run runs the collectors under timeout and returns the exposition of
// what Run sent, without the durations (they vary).
func run(t *testing.T, timeout time.Duration, collectors ...Named) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch := make(chan prometheus.Metric)
	done := make(chan struct{})
	var ms []prometheus.Metric
	go func() {
		for m := range ch {
			ms = append(ms, m)
		}
		close(done)
	}()
	Run(ctx, ch, slog.New(slog.DiscardHandler), collectors)
	close(ch)
	<-done
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(replay(ms)); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "redline_collector_duration_seconds" {
			if len(mf.GetMetric()) != len(collectors) {
				t.Errorf("%d duration series for %d collectors", len(mf.GetMetric()), len(collectors))
			}
			continue
		}
		for _, m := range mf.GetMetric() {
			b.WriteString(mf.GetName())
			for _, l := range m.GetLabel() {
				b.WriteString(" " + l.GetName() + "=" + l.GetValue())
			}
			fmt.Fprintf(&b, " %g\n", m.GetGauge().GetValue())
		}
	}
	return b.String()
}

type replay []prometheus.Metric

func (replay) Describe(chan<- *prometheus.Desc) {}
func (r replay) Collect(ch chan<- prometheus.Metric) {
	for _, m := range r {
		ch <- m
	}
}

func TestRunSuccess(t *testing.T) {
	got := run(t, 5*time.Second, Named{Name: "ok", Collector: collectorFunc(func(_ context.Context, ch chan<- prometheus.Metric) error {
		ch <- value("app", 1)
		return nil
	})})
	want := "redline_collector_success collector=ok 1\ntest_value db=app 1\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A collector that read one database and failed on another keeps the
// first database's series, and reports success 0.
func TestRunKeepsPartialMetricsOnError(t *testing.T) {
	got := run(t, 5*time.Second, Named{Name: "partial", Collector: collectorFunc(func(_ context.Context, ch chan<- prometheus.Metric) error {
		ch <- value("app", 7)
		return errors.New("database billing: permission denied")
	})})
	want := "redline_collector_success collector=partial 0\ntest_value db=app 7\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRunPanicIsAFailure(t *testing.T) {
	got := run(t, 5*time.Second,
		Named{Name: "broken", Collector: collectorFunc(func(_ context.Context, ch chan<- prometheus.Metric) error {
			ch <- value("app", 1)
			panic("bad label value")
		})},
		Named{Name: "fine", Collector: collectorFunc(func(_ context.Context, ch chan<- prometheus.Metric) error {
			ch <- value("billing", 2)
			return nil
		})})
	want := "redline_collector_success collector=broken 0\nredline_collector_success collector=fine 1\n" +
		"test_value db=app 1\ntest_value db=billing 2\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A collector that outlives the deadline is reported failed at the
// deadline and its late metrics are dropped; the others still serve.
func TestRunTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	got := run(t, 200*time.Millisecond,
		Named{Name: "stuck", Collector: collectorFunc(func(_ context.Context, ch chan<- prometheus.Metric) error {
			<-release // ignores its context: the worst case
			ch <- value("late", 1)
			return nil
		})},
		Named{Name: "fine", Collector: collectorFunc(func(_ context.Context, ch chan<- prometheus.Metric) error {
			ch <- value("app", 2)
			return nil
		})})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Run took %s past a 200ms deadline", took)
	}
	want := "redline_collector_success collector=fine 1\nredline_collector_success collector=stuck 0\ntest_value db=app 2\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

var upDesc = prometheus.NewDesc("test_up", "1 when the test target answered.", nil, nil)

// reporter is a target that says what it reports (UpReporter).
type reporter []string

func (r reporter) UpDesc() *prometheus.Desc { return upDesc }
func (r reporter) Collectors() []string     { return r }

// gathered is ms as exposition text, through a pedantic registry (which
// also rejects a series sent twice).
func gathered(t *testing.T, ms []prometheus.Metric, names ...string) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(replay(ms)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if !slices.Contains(names, mf.GetName()) {
			continue
		}
		for _, m := range mf.GetMetric() {
			fmt.Fprint(&b, mf.GetName())
			for _, l := range m.GetLabel() {
				fmt.Fprintf(&b, " %s=%s", l.GetName(), l.GetValue())
			}
			fmt.Fprintf(&b, " %g\n", m.GetGauge().GetValue())
		}
	}
	return b.String()
}

func TestDown(t *testing.T) {
	got := gathered(t, Down(upDesc, []string{"a", "b"}), "test_up", "redline_collector_success", "redline_collector_duration_seconds")
	const want = "redline_collector_duration_seconds collector=a 0\nredline_collector_duration_seconds collector=b 0\n" +
		"redline_collector_success collector=a 0\nredline_collector_success collector=b 0\ntest_up 0\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Complete adds only what is missing: a target that sent up and one
// collector's result before it ran out of time keeps both, and the other
// collector is reported failed; nothing is sent twice.
func TestComplete(t *testing.T) {
	r := reporter{"a", "b"}
	partial := []prometheus.Metric{
		prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1),
		prometheus.MustNewConstMetric(successDesc, prometheus.GaugeValue, 1, "a"),
		prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, 0.5, "a"),
	}
	shared := slices.Clip(partial)
	for _, tc := range []struct {
		name string
		ms   []prometheus.Metric
		want string
	}{
		{"nothing", nil, "redline_collector_success collector=a 0\nredline_collector_success collector=b 0\ntest_up 0\n"},
		{"partial", shared, "redline_collector_success collector=a 1\nredline_collector_success collector=b 0\ntest_up 1\n"},
		{"complete", append(slices.Clone(partial), Down(upDesc, []string{"b"})[1:]...),
			"redline_collector_success collector=a 1\nredline_collector_success collector=b 0\ntest_up 1\n"},
	} {
		if got := gathered(t, Complete(r, tc.ms), "test_up", "redline_collector_success"); got != tc.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
	if len(shared) != 3 {
		t.Errorf("Complete changed the slice it was given")
	}
}

// A collector that honours its context and runs out of time returns its
// error with what it read so far; its own deadline, earlier than Run's,
// lets that reach the scrape instead of racing Run's deadline.
//
// The deadline is long enough that the collector's margin is the full
// 100ms: a shorter one (5ms at a 100ms deadline) is a scheduling race on a
// loaded CI machine under -race, not a property of Run.
func TestRunDeadlineKeepsWhatAPoliteCollectorRead(t *testing.T) {
	t.Parallel()
	for i := range 3 {
		got := run(t, 2*time.Second, Named{Name: "slow", Collector: collectorFunc(func(ctx context.Context, ch chan<- prometheus.Metric) error {
			ch <- value("app", 1)
			<-ctx.Done() // the second database never answers
			return ctx.Err()
		})})
		want := "redline_collector_success collector=slow 0\ntest_value db=app 1\n"
		if got != want {
			t.Fatalf("run %d: got\n%s\nwant\n%s", i, got, want)
		}
	}
}

// A renamed collector's former flag still switches it, and is hidden.
func TestFormerNameIsAHiddenAlias(t *testing.T) {
	declare("test_renamed", true, "A collector that was renamed.", "test.renamed")
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"--no-collector.test.renamed"}, false},
		{[]string{"--no-collector.test_renamed"}, false},
		{[]string{"--collector.test.renamed"}, true},
	} {
		app := kingpin.New("t", "")
		AddFlags(app)
		if _, err := app.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got := Enabled("test_renamed"); got != tc.want {
			t.Errorf("%v: enabled = %v, want %v", tc.args, got, tc.want)
		}
	}
	var help strings.Builder
	app := kingpin.New("t", "").UsageWriter(&help)
	AddFlags(app)
	app.Usage(nil)
	if !strings.Contains(help.String(), "--[no-]collector.test_renamed") || strings.Contains(help.String(), "collector.test.renamed") {
		t.Errorf("help shows the former name or lacks the new one:\n%s", help.String())
	}
}

// A Registry keeps its collectors in registration order, declares each
// one's flag, and lists only the enabled ones as Enabled.
func TestRegistry(t *testing.T) {
	var r Registry[int]
	r.Register("test_registry_b", "B.", 2)
	r.Register("test_registry_a", "A.", 1, "test.registry.a")
	if got := r.Names(); !slices.Equal(got, []string{"test_registry_b", "test_registry_a"}) {
		t.Errorf("names %v", got)
	}
	if !Enabled("test_registry_a") {
		t.Error("a registered collector is off by default")
	}
	SetEnabled("test_registry_b", false)
	defer SetEnabled("test_registry_b", true)
	if got := r.Enabled(); len(got) != 1 || got[0].Name != "test_registry_a" || got[0].Build != 1 {
		t.Errorf("enabled %v", got)
	}
}
