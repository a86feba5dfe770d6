package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/config"
	"github.com/redline-sre/redline/exporter/eventloop"
	"github.com/redline-sre/redline/exporter/pgbouncer"
	"github.com/redline-sre/redline/exporter/postgres"
	"github.com/redline-sre/redline/exporter/web"
)

// builders is the one place that maps a target kind to its package. Each
// builder only prepares the target; targets connect on their own. pg holds
// the PostgreSQL knobs the flags set for every postgres target.
func builders(pg postgres.Options) web.Builders {
	return web.Builders{
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
// with the probes: section. It returns the function that stops them.
func wireHooks(r *web.Reloader, reg prometheus.Registerer, logger *slog.Logger) func() {
	probes := eventloop.NewManager(reg, logger.With("component", "eventloop"))
	r.Hooks = append(r.Hooks, func(cfg *config.Config) {
		if err := probes.Apply(probeConfigs(cfg.Probes)); err != nil {
			// Apply changes nothing on error: the previous probes keep running.
			logger.Error("event-loop probes not applied; the previous ones keep running", "err", err)
		}
	})
	return probes.Stop
}

// probeConfigs converts the config file's probes to the prober's settings.
func probeConfigs(in []config.Probe) []eventloop.ProbeConfig {
	out := make([]eventloop.ProbeConfig, 0, len(in))
	for _, p := range in {
		out = append(out, eventloop.ProbeConfig{
			Name: p.Name, URL: p.URL, Interval: p.Interval, Timeout: p.Timeout,
			MaxInFlight: p.MaxInFlight, Headers: p.Headers,
		})
	}
	return out
}
