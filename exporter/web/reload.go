package web

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
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
	Targets *Targets
	Logger  *slog.Logger

	mu      sync.Mutex
	applied map[string]config.Target // config of each running target
	ready   bool
	closed  bool // set by CloseAll: a late reload (SIGHUP at shutdown) builds nothing

	success   prometheus.Gauge
	timestamp prometheus.Gauge
}

// NewReloader returns a reloader whose metrics are registered on reg.
func NewReloader(load func() (*config.Config, error), builders Builders, targets *Targets, reg prometheus.Registerer, logger *slog.Logger) *Reloader {
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
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ready
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
		if r.ready {
			r.Logger.Error("configuration not loaded; the previous one stays in use", "err", err)
		} else {
			r.Logger.Error("configuration not loaded", "err", err)
		}
		return err
	}
	r.success.Set(1)
	r.timestamp.Set(float64(time.Now().Unix()))
	r.ready = true
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
	running := r.Targets.snapshot()

	next := map[string]collector.Target{}
	var built []collector.Target // new instances, closed again on failure
	var errs []error
	for _, tc := range cfg.Targets() {
		if old, ok := running[tc.Name]; ok && sameTarget(r.applied[tc.Name], tc) {
			next[tc.Name] = old
			continue
		}
		build, ok := r.Builders[tc.Kind]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: target %q: %s targets are not supported by this build", tc.Source, tc.Name, tc.Kind))
			continue
		}
		t, err := build(tc, r.Logger.With("target", tc.Name, "kind", tc.Kind))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: target %q: %w", tc.Source, tc.Name, err))
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
	if len(next) == 0 && len(cfg.Probes) == 0 {
		r.Logger.Warn("no targets configured: serving only the exporter's own metrics (set --config.file or a --*.dsn flag)")
	}
	r.Logger.Info("configuration loaded", "targets", len(next), "probes", len(cfg.Probes))
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
	for _, t := range r.Targets.Swap(nil) {
		t.Close()
	}
}
