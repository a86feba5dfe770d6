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
	"github.com/redline-sre/redline/exporter/probe"
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
	hm := headers.NewManager(reg, logger.With("component", "headers"))
	r.Hooks = append(r.Hooks,
		probeHook("event-loop probes", m, func(c *config.Config) []config.Probe { return c.Probes },
			func(p config.Probe) eventloop.ProbeConfig { return p.ProbeConfig }),
		probeHook("header probes", hm, func(c *config.Config) []config.HeaderProbe { return c.HeaderProbes },
			func(p config.HeaderProbe) headers.ProbeConfig { return p.ProbeConfig }))
	return func() { m.Stop(); hm.Stop() }
}

// probeHook applies one prober's section of each loaded config to its
// manager. config.Load validated the probes; Apply changes nothing on
// error, so a failed reload leaves the previous probes running.
func probeHook[E, C any, R probe.Running](what string, m *probe.Manager[C, R],
	section func(*config.Config) []E, probeOf func(E) C) func(*config.Config) error {
	return func(cfg *config.Config) error {
		entries := section(cfg)
		probes := make([]C, 0, len(entries))
		for _, e := range entries {
			probes = append(probes, probeOf(e))
		}
		if err := m.Apply(probes); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}
