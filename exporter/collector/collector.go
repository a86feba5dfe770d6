// Package collector is the exporter's collection framework: the Collector
// interface every signal implements, the Registry each target kind keeps its
// collectors in (behind the --collector.<name> flags), and Run, which runs a target's collectors
// concurrently under one deadline and reports each one's success and
// duration.
package collector

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/redline-sre/redline/exporter/deadline"
)

// Namespace prefixes the exporter's own metrics.
const Namespace = "redline"

// Collector reads one group of signals from one target. It sends metrics on
// ch and returns an error when it could not read them; it must return soon
// after ctx is done.
type Collector interface {
	Update(ctx context.Context, ch chan<- prometheus.Metric) error
}

// Target is one configured endpoint (a pgBouncer, a PostgreSQL server) whose
// collectors run together on a scrape. The HTTP layer adds the
// target="<name>" label to everything a target sends.
type Target interface {
	// Collect runs the target's collectors within ctx's deadline and sends
	// every metric on ch: the target's up metric, the collectors' metrics and
	// their success and duration. It returns by the deadline.
	Collect(ctx context.Context, ch chan<- prometheus.Metric)
	// Close releases the target's connections and background work.
	Close()
}

// UpReporter is a Target with an up metric (pg_up, pgbouncer_up) and a
// known set of collectors. When such a target panics or misses the
// scrape's deadline before it reported, the HTTP layer reports it down
// (Down): a scrape that read nothing from the target must say so, with
// every series the alerts watch, not leave them out.
type UpReporter interface {
	UpDesc() *prometheus.Desc
	// Collectors names the collectors a scrape of the target reports on.
	Collectors() []string
}

// Named pairs a collector with the name it reports under.
type Named struct {
	Name      string
	Collector Collector
}

var (
	successDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "collector", "success"),
		"1 when the collector read its signals from the target during this scrape, 0 when it failed or ran out of time.",
		[]string{"collector"}, nil)
	durationDesc = prometheus.NewDesc(
		prometheus.BuildFQName(Namespace, "collector", "duration_seconds"),
		"Time the collector took during this scrape, in seconds.",
		[]string{"collector"}, nil)
)

// Run runs every collector concurrently and sends their metrics on ch,
// followed by redline_collector_success and
// redline_collector_duration_seconds for each. A collector that returns an
// error is reported as failed, but the metrics it did send are kept: one
// failing database must not blank a signal for every other one. A
// collector that is still running when ctx is done is reported as failed
// and its late metrics are dropped, so one slow collector never holds up
// the scrape or the others. Run returns when all collectors finished or ctx
// is done.
func Run(ctx context.Context, ch chan<- prometheus.Metric, logger *slog.Logger, collectors []Named) {
	type result struct {
		name     string
		metrics  []prometheus.Metric
		err      error
		duration time.Duration
	}
	results := make(chan result, len(collectors))
	// Each collector gets its own deadline a little before Run's, so that
	// one honouring its context returns its error and what it did read
	// before Run gives up on it.
	own := ctx
	if end, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		own, cancel = context.WithDeadline(ctx, deadline.Collector(end))
		defer cancel()
	}
	for _, c := range collectors {
		go func() {
			start := time.Now()
			out := make(chan prometheus.Metric)
			var metrics []prometheus.Metric
			drained := make(chan struct{})
			go func() {
				for m := range out {
					metrics = append(metrics, m)
				}
				close(drained)
			}()
			err := safeUpdate(own, c.Collector, out)
			close(out)
			<-drained
			results <- result{name: c.Name, metrics: metrics, err: err, duration: time.Since(start)}
		}()
	}

	pending := make(map[string]bool, len(collectors))
	for _, c := range collectors {
		pending[c.Name] = true
	}
	start := time.Now()
	report := func(r result) {
		delete(pending, r.name)
		success := 1.0
		if r.err != nil {
			success = 0
			logger.Error("collector failed", "collector", r.name, "duration_seconds", r.duration.Seconds(),
				"metrics_kept", len(r.metrics), "err", r.err)
		}
		for _, m := range r.metrics {
			ch <- m
		}
		ch <- prometheus.MustNewConstMetric(successDesc, prometheus.GaugeValue, success, r.name)
		ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, r.duration.Seconds(), r.name)
	}
	for len(pending) > 0 {
		select {
		case r := <-results:
			report(r)
		case <-ctx.Done():
			// Both cases can be ready at once and select picks at random:
			// take every result that already arrived before giving up on
			// the rest.
			for drained := false; !drained; {
				select {
				case r := <-results:
					report(r)
				default:
					drained = true
				}
			}
			// The results channel is buffered: late collectors finish
			// without blocking and their metrics are garbage collected.
			names := make([]string, 0, len(pending))
			for n := range pending {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				logger.Error("collector timed out", "collector", n, "err", ctx.Err())
				ch <- prometheus.MustNewConstMetric(successDesc, prometheus.GaugeValue, 0, n)
				ch <- prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, time.Since(start).Seconds(), n)
			}
			return
		}
	}
}

// Down is what a target that did not answer reports, the same for every
// kind: its up metric at 0 and each named collector as failed (success 0,
// duration 0). The caller logs the reason once; no collector ran, so none
// logs its own failure.
func Down(up *prometheus.Desc, collectors []string) []prometheus.Metric {
	ms := []prometheus.Metric{prometheus.MustNewConstMetric(up, prometheus.GaugeValue, 0)}
	for _, name := range collectors {
		ms = append(ms,
			prometheus.MustNewConstMetric(successDesc, prometheus.GaugeValue, 0, name),
			prometheus.MustNewConstMetric(durationDesc, prometheus.GaugeValue, 0, name))
	}
	return ms
}

// Complete returns ms with what t must always report added where missing:
// its up metric at 0 and success 0 for each of its collectors. A target
// that panicked, or a scrape whose deadline came before the shared
// collection ended, still serves every series the alerts watch. ms is not
// written to: it may be the slice every joined scrape shares.
func Complete(t UpReporter, ms []prometheus.Metric) []prometheus.Metric {
	up := t.UpDesc()
	hasUp := false
	reported := map[string]bool{}
	for _, m := range ms {
		switch m.Desc() {
		case up:
			hasUp = true
		case successDesc:
			var pb dto.Metric
			if err := m.Write(&pb); err == nil {
				for _, l := range pb.GetLabel() {
					if l.GetName() == "collector" {
						reported[l.GetValue()] = true
					}
				}
			}
		}
	}
	var missing []string
	for _, name := range t.Collectors() {
		if !reported[name] {
			missing = append(missing, name)
		}
	}
	if hasUp && len(missing) == 0 {
		return ms
	}
	add := Down(up, missing)
	if hasUp {
		add = add[1:]
	}
	return append(slices.Clip(ms), add...)
}

// safeUpdate turns a collector panic into an error: one broken collector
// must not take the exporter down.
func safeUpdate(ctx context.Context, c Collector, ch chan<- prometheus.Metric) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Update(ctx, ch)
}

// registration is a collector name known to the flags.
type registration struct {
	help    string
	enabled *bool
	// aliases are former names, still accepted as hidden flags.
	aliases []string
}

var (
	mu       sync.Mutex
	registry = map[string]*registration{}
)

// Registry is the one registry of a target kind's collectors (one per
// kind: postgres.Collectors, pgbouncer.Collectors), in registration order.
// B is how a target of the kind builds or runs a collector. A collector is
// one file whose init is one line: Collectors.Register(name, help, build).
type Registry[B any] struct {
	entries []Entry[B]
}

// Entry is one registered collector.
type Entry[B any] struct {
	Name  string
	Build B
}

// Register declares a collector: the name becomes the --collector.<name> /
// --no-collector.<name> flag (on by default) and the collector label;
// every name is snake_case, prefixed with its target kind when the kind's
// own name for it (databases, stats) would be ambiguous. aliases are
// former names: their flags still work, hidden from --help. Call it from
// init.
func (r *Registry[B]) Register(name, help string, build B, aliases ...string) {
	declare(name, true, help, aliases...)
	r.entries = append(r.entries, Entry[B]{Name: name, Build: build})
}

// Enabled lists the collectors switched on, in registration order.
func (r *Registry[B]) Enabled() []Entry[B] {
	var out []Entry[B]
	for _, e := range r.entries {
		if Enabled(e.Name) {
			out = append(out, e)
		}
	}
	return out
}

// Names lists every collector of the registry, enabled or not, in
// registration order.
func (r *Registry[B]) Names() []string {
	names := make([]string, len(r.entries))
	for i, e := range r.entries {
		names[i] = e.Name
	}
	return names
}

// declare records a collector name with its default state and help text
// for the flags.
func declare(name string, enabledByDefault bool, help string, aliases ...string) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("collector registered twice: " + name)
	}
	on := enabledByDefault
	registry[name] = &registration{help: help, enabled: &on, aliases: aliases}
}

// AddFlags adds a --collector.<name> flag for every registered collector.
func AddFlags(app *kingpin.Application) {
	mu.Lock()
	defer mu.Unlock()
	for _, name := range names() {
		r := registry[name]
		state := "disabled"
		if *r.enabled {
			state = "enabled"
		}
		app.Flag("collector."+name, fmt.Sprintf("%s (default: %s).", r.help, state)).
			Default(fmt.Sprint(*r.enabled)).BoolVar(r.enabled)
		// kingpin sets every default before any value, so an alias given
		// on the command line wins over the default of the flag it shares
		// its variable with.
		for _, alias := range r.aliases {
			app.Flag("collector."+alias, "Former name of --collector."+name+".").Hidden().BoolVar(r.enabled)
		}
	}
}

// Enabled reports whether the named collector is switched on. Unknown names
// are off.
func Enabled(name string) bool {
	mu.Lock()
	defer mu.Unlock()
	r, ok := registry[name]
	return ok && *r.enabled
}

// SetEnabled switches a collector on or off, for tests in other packages.
func SetEnabled(name string, on bool) {
	mu.Lock()
	defer mu.Unlock()
	if r, ok := registry[name]; ok {
		*r.enabled = on
	}
}

// names lists every declared collector, sorted. The caller holds mu.
func names() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
