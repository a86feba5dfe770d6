// Package lifecycle builds the exporter's targets from the configuration
// and keeps them running: a (re)load builds what changed, swaps the new
// set in at once and closes what is gone. --config.check runs the same
// build check without serving.
package lifecycle

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/config"
)

// Builder makes a target from its configuration. It must not connect (or
// block) — targets connect on their first scrape.
type Builder func(t config.Target, logger *slog.Logger) (collector.Target, error)

// Builders maps a target kind (config.KindPgBouncer, config.KindPostgres)
// to the code that builds it. A kind without a builder is a config error.
type Builders map[string]Builder

// Set is where the running targets are served from (web.Targets): Swap
// installs a new set at once and returns the previous one.
type Set interface {
	Swap(next map[string]collector.Target) map[string]collector.Target
}

// Check builds every target of cfg the way a reload does, and closes them
// again: it reports every target this build cannot serve (an unknown kind,
// options its package refuses) without connecting anywhere.
func Check(cfg *config.Config, builders Builders) error {
	var errs []error
	for _, tc := range cfg.Targets() {
		t, err := builders.build(tc, slog.New(slog.DiscardHandler))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t.Close()
	}
	return errors.Join(errs...)
}

// build makes one target, its error naming where it was configured.
func (b Builders) build(tc config.Target, logger *slog.Logger) (collector.Target, error) {
	build, ok := b[tc.Kind]
	if !ok {
		return nil, fmt.Errorf("%s: target %q: %s targets are not supported by this build", tc.Source, tc.Name, tc.Kind)
	}
	t, err := build(tc, logger)
	if err != nil {
		return nil, fmt.Errorf("%s: target %q: %w", tc.Source, tc.Name, err)
	}
	return t, nil
}

// Reloader loads the configuration and swaps the target set. A failed
// load or build keeps the previous targets serving.
type Reloader struct {
	// Load reads the configuration (the file and the one-target flags).
	Load func() (*config.Config, error)
	// Builders build targets by kind.
	Builders Builders
	// Hooks run on every load whose targets built, with the new
	// configuration, in order, before the targets are swapped in:
	// background work such as the event-loop probers applies its part of
	// the config here. A hook's error fails the reload (the new targets are
	// discarded); a hook that fails must leave its own part unchanged.
	Hooks   []func(*config.Config) error
	Targets Set
	Logger  *slog.Logger

	mu      sync.Mutex
	applied map[string]config.Target    // config of each running target
	running map[string]collector.Target // the targets last swapped in
	// ready is read without mu: /-/ready must answer while a reload runs.
	ready  atomic.Bool
	closed bool // set by CloseAll: a late reload (SIGHUP at shutdown) builds nothing

	success   prometheus.Gauge
	timestamp prometheus.Gauge
}

// NewReloader returns a reloader whose metrics are registered on reg.
func NewReloader(load func() (*config.Config, error), builders Builders, targets Set, reg prometheus.Registerer, logger *slog.Logger) *Reloader {
	r := &Reloader{
		Load: load, Builders: builders, Targets: targets, Logger: logger,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: collector.Namespace, Subsystem: "config", Name: "last_reload_successful",
			Help: "1 when the last configuration load succeeded, 0 when it failed and the previous configuration is still in use.",
		}),
		timestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: collector.Namespace, Subsystem: "config", Name: "last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load.",
		}),
	}
	reg.MustRegister(r.success, r.timestamp)
	return r
}

// Ready reports whether a configuration has been loaded.
func (r *Reloader) Ready() bool {
	return r.ready.Load()
}

// Reload loads the configuration, builds its targets, swaps them in and
// closes the targets that are gone or changed. Targets whose configuration
// did not change keep running with their open connections.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.reload()
	if err != nil {
		r.success.Set(0)
		if r.ready.Load() {
			r.Logger.Error("configuration not loaded; the previous one stays in use", "err", err)
		} else {
			r.Logger.Error("configuration not loaded", "err", err)
		}
		return err
	}
	r.success.Set(1)
	r.timestamp.Set(float64(time.Now().Unix()))
	r.ready.Store(true)
	return nil
}

func (r *Reloader) reload() error {
	if r.closed {
		return errors.New("the exporter is shutting down")
	}
	cfg, err := r.Load()
	if err != nil {
		return err
	}
	running := r.running

	next := map[string]collector.Target{}
	var built []collector.Target // new instances, closed again on failure
	var errs []error
	for _, tc := range cfg.Targets() {
		if old, ok := running[tc.Name]; ok && sameTarget(r.applied[tc.Name], tc) {
			next[tc.Name] = old
			continue
		}
		t, err := r.Builders.build(tc, r.Logger.With("target", tc.Name, "kind", tc.Kind))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		built = append(built, t)
		next[tc.Name] = t
	}
	if len(errs) == 0 {
		for _, hook := range r.Hooks {
			if err := hook(cfg); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		for _, t := range built {
			go t.Close()
		}
		return err
	}

	prev := r.Targets.Swap(next)
	r.running = next
	r.applied = map[string]config.Target{}
	for _, tc := range cfg.Targets() {
		r.applied[tc.Name] = tc
	}
	for name, t := range prev {
		if next[name] != t {
			// Close waits for scrapes still using the target; do not hold
			// the reload for them.
			go t.Close()
		}
	}
	r.Logger.Info("configuration loaded", "targets", len(next), "probes", len(cfg.Probes), "header_probes", len(cfg.HeaderProbes))
	return nil
}

// sameTarget reports whether a target can keep running unchanged: every
// setting but where it was written is equal. Whole structs are compared so
// that a setting added to config.Target later also triggers a rebuild.
func sameTarget(a, b config.Target) bool {
	a.Source, b.Source = "", ""
	return reflect.DeepEqual(a, b)
}

// CloseAll closes every target (at shutdown). Reloads fail afterwards, so a
// SIGHUP that arrives during shutdown cannot start new targets.
func (r *Reloader) CloseAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.running = nil
	for _, t := range r.Targets.Swap(nil) {
		t.Close()
	}
}
