package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/config"
	"github.com/redline-sre/redline/exporter/eventloop"
	"github.com/redline-sre/redline/exporter/headers"
	"github.com/redline-sre/redline/exporter/lifecycle"
	"github.com/redline-sre/redline/exporter/pgbouncer"
	"github.com/redline-sre/redline/exporter/postgres"
)

// builders is the one place that maps a target kind to its package. Each
// builder only prepares the target; targets connect on their own. pg holds
// the PostgreSQL knobs the flags set for every postgres target.
func builders(pg postgres.Options) lifecycle.Builders {
	return lifecycle.Builders{
		config.KindPostgres: func(t config.Target, logger *slog.Logger) (collector.Target, error) {
			opts := pg
			opts.DSN, opts.Databases = t.DSN, t.Databases
			opts.MaxConnsPerDatabase, opts.ConnectTimeout = t.MaxConnections, t.ConnectTimeout
			target, err := postgres.NewTarget(opts, logger)
			if err != nil {
				return nil, err
			}
			return target, nil
		},
		config.KindPgBouncer: func(t config.Target, logger *slog.Logger) (collector.Target, error) {
			target, err := pgbouncer.NewTarget(pgbouncer.Options{
				DSN: t.DSN, MaxConnections: t.MaxConnections, ConnectTimeout: t.ConnectTimeout,
			}, logger)
			if err != nil {
				return nil, err // not a typed nil inside the interface
			}
			return target, nil
		},
	}
}

// wireHooks connects background work that follows the configuration to
// each successful (re)load: the event-loop probers start, restart or stop
// with the probes: section, the header probers with headers:. It returns
// the function that stops them.
func wireHooks(r *lifecycle.Reloader, reg prometheus.Registerer, logger *slog.Logger) func() {
	m := eventloop.NewManager(reg, logger.With("component", "eventloop"))
	r.Hooks = append(r.Hooks, func(cfg *config.Config) error {
		// config.Load validated the probes; Apply changes nothing on error,
		// so a failed reload leaves the previous probes running.
		probes := make([]eventloop.ProbeConfig, 0, len(cfg.Probes))
		for _, p := range cfg.Probes {
			probes = append(probes, p.ProbeConfig)
		}
		if err := m.Apply(probes); err != nil {
			return fmt.Errorf("event-loop probes: %w", err)
		}
		return nil
	})
	hm := headers.NewManager(reg, logger.With("component", "headers"))
	r.Hooks = append(r.Hooks, func(cfg *config.Config) error {
		probes := make([]headers.ProbeConfig, 0, len(cfg.HeaderProbes))
		for _, p := range cfg.HeaderProbes {
			probes = append(probes, p.ProbeConfig)
		}
		if err := hm.Apply(probes); err != nil {
			return fmt.Errorf("header probes: %w", err)
		}
		return nil
	})
	return func() { m.Stop(); hm.Stop() }
}
