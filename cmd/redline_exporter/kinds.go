package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/config"
	"github.com/redline-sre/redline/exporter/pgbouncer"
	"github.com/redline-sre/redline/exporter/web"
)

// builders is the one place that maps a target kind to its package. Each
// builder only prepares the target; targets connect on their own.
func builders() web.Builders {
	return web.Builders{
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
// each successful (re)load and returns what stops it at shutdown. The
// event-loop probers are not part of this build yet: say so rather than
// ignore configured probes silently.
func wireHooks(r *web.Reloader, _ prometheus.Registerer, logger *slog.Logger) (stop func()) {
	r.Hooks = append(r.Hooks, func(cfg *config.Config) {
		if len(cfg.Probes) > 0 {
			logger.Warn("event-loop probes are configured but this build has no prober; they do not run", "probes", len(cfg.Probes))
		}
	})
	return func() {}
}
