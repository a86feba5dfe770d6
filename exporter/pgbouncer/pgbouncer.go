// Package pgbouncer reads one pgBouncer's admin console (SHOW POOLS,
// DATABASES, USERS, STATS, CONFIG, LISTS, VERSION) and publishes its pool
// state, traffic counters and the derived saturation ratios.
//
// The console speaks only the simple query protocol and its columns change
// between releases, so every command goes through showQuery (simple
// protocol, values as text) and every column is looked up by name: unknown
// columns are ignored, missing ones leave their series out.
package pgbouncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/dsn"
)

// Collector names, as they appear in --collector.<name> flags and in the
// collector label: snake_case like the PostgreSQL ones (dead_tuples). The
// former dotted names (pgbouncer.pools) remain hidden flag aliases.
const (
	CollectorPools     = "pgbouncer_pools"
	CollectorDatabases = "pgbouncer_databases"
	CollectorStats     = "pgbouncer_stats"
	CollectorClients   = "pgbouncer_clients"
	CollectorUsers     = "pgbouncer_users"
	CollectorPrepared  = "pgbouncer_prepared_statements"
)

// collectors are this package's collectors in registration order; each
// file that holds one registers it from its init, like the PostgreSQL ones.
var collectors []collectorFactory

type collectorFactory struct {
	name  string
	build func(*console) collector.Collector
}

// register makes a collector's --collector.<name> flag (alias: the former
// dotted name) and has every new target build it.
func register(name, alias, help string, build func(*console) collector.Collector) {
	var aliases []string
	if alias != "" {
		aliases = []string{alias}
	}
	collector.Register(name, true, help, aliases...)
	collectors = append(collectors, collectorFactory{name: name, build: build})
}

// ApplicationName is sent on every connection, so a DBA can tell the
// exporter's connections apart in SHOW CLIENTS.
const ApplicationName = "redline_exporter"

// Defaults for Options fields left zero, whether the target comes from the
// config file, a flag or code.
const (
	DefaultMaxConnections = 2
	DefaultConnectTimeout = 5 * time.Second
)

var (
	upDesc = prometheus.NewDesc("pgbouncer_up",
		"1 when pgBouncer's admin console answered SHOW VERSION during this scrape, else 0.", nil, nil)
	versionDesc = prometheus.NewDesc("pgbouncer_version_info",
		"pgBouncer's version from SHOW VERSION, always 1.", []string{"version"}, nil)
)

// Options configures one pgBouncer target.
type Options struct {
	// DSN reaches the admin console: database "pgbouncer", a user listed in
	// stats_users or admin_users. It is a secret.
	DSN string
	// MaxConnections bounds the connection pool (default 2).
	MaxConnections int
	// ConnectTimeout bounds one connection attempt (default 5s).
	ConnectTimeout time.Duration
}

// Target is one pgBouncer. It implements collector.Target.
type Target struct {
	pool       *pgxpool.Pool
	logger     *slog.Logger
	console    *console
	collectors []collector.Named
	downLog    collector.DownLog
}

// NewTarget prepares a target without connecting: the pool connects in the
// background and on the first scrape, so an unreachable pgBouncer never
// blocks start-up or a config reload.
func NewTarget(opts Options, logger *slog.Logger) (*Target, error) {
	cfg, err := poolConfig(opts)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("pgbouncer: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	con := &console{pool: pool, logger: logger, unknown: map[string][]string{}}
	t := &Target{pool: pool, logger: logger, console: con}
	for _, c := range collectors {
		if collector.Enabled(c.name) {
			t.collectors = append(t.collectors, collector.Named{Name: c.name, Collector: c.build(con)})
		}
	}
	return t, nil
}

func poolConfig(opts Options) (*pgxpool.Config, error) {
	cfg, err := dsn.Parse("pgbouncer", opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("pgbouncer: %w", err)
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	cfg.MaxConns = int32(opts.MaxConnections)
	// One connection kept open lets the pool's health check reconnect in
	// the background after pgBouncer comes back.
	cfg.MinConns = 1
	cfg.HealthCheckPeriod = 15 * time.Second
	// Connections to the console are cheap to keep and each new one is a
	// login in pgBouncer's log: keep them for a day.
	cfg.MaxConnLifetime = 24 * time.Hour
	cfg.MaxConnIdleTime = 24 * time.Hour
	// pgxpool pings a connection idle for more than a second before handing
	// it out, with "-- ping", which the admin console rejects ("invalid
	// command"); the pool would then drop the connection and log in again
	// on every scrape. Liveness is checked by SHOW VERSION instead (see
	// showVersion), which retries once on a dead connection.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.ConnConfig.RuntimeParams["application_name"] = ApplicationName
	return cfg, nil
}

// UpDesc is the target's up metric, for collector.UpReporter.
func (t *Target) UpDesc() *prometheus.Desc { return upDesc }

// Collectors names the enabled collectors, for collector.UpReporter.
func (t *Target) Collectors() []string {
	names := make([]string, len(t.collectors))
	for i, c := range t.collectors {
		names[i] = c.Name
	}
	return names
}

var _ collector.UpReporter = (*Target)(nil)

// Collect checks that pgBouncer answers, then runs the enabled collectors
// within ctx's deadline. When pgBouncer does not answer, every enabled
// collector is reported as failed along with pgbouncer_up 0.
func (t *Target) Collect(ctx context.Context, ch chan<- prometheus.Metric) {
	version, err := t.showVersion(ctx)
	if err != nil {
		t.downLog.Down(t.logger, "pgbouncer is not answering", err)
		for _, m := range collector.Down(upDesc, t.Collectors()) {
			ch <- m
		}
		return
	}
	t.downLog.Up(t.logger, "pgbouncer answers again")
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	if version != "" {
		// The version comes from the server: a value that is not a valid
		// label (not UTF-8) is left out rather than panicking.
		if m, err := prometheus.NewConstMetric(versionDesc, prometheus.GaugeValue, 1, version); err == nil {
			ch <- m
		} else {
			t.logger.Warn("pgbouncer version not exported", "err", err)
		}
	}
	collector.Run(ctx, ch, t.logger, t.collectors)
	t.console.collectUnknown(ch)
}

// showVersion is the liveness check. A pooled connection that pgBouncer
// closed while it sat idle (client_idle_timeout, a restart) fails on first
// use; one retry on fresh connections tells that apart from pgBouncer being
// down. Server errors (wrong password, unknown command) are not retried,
// nor is a timeout: a pgBouncer that did not answer within the connect
// timeout will not answer a second attempt either, and two attempts would
// not fit in the scrape's deadline.
func (t *Target) showVersion(ctx context.Context) (string, error) {
	rows, err := showQuery(ctx, t.pool, "SHOW VERSION")
	var pgErr *pgconn.PgError
	if err != nil && ctx.Err() == nil && !errors.As(err, &pgErr) && !isTimeout(err) {
		// Whatever broke this connection (a restart, a network cut) most
		// likely broke its idle siblings too: drop them all.
		t.logger.Debug("retrying on a new connection", "err", err)
		t.pool.Reset()
		rows, err = showQuery(ctx, t.pool, "SHOW VERSION")
	}
	if err != nil {
		return "", err
	}
	for _, r := range rows {
		if v := r["version"]; v != "" {
			return parseVersion(v), nil
		}
	}
	return "", nil
}

// isTimeout reports whether err is a connect or I/O timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// parseVersion turns "PgBouncer 1.18.0" (possibly followed by build
// details on later lines) into "1.18.0".
func parseVersion(s string) string {
	f := strings.Fields(s)
	if len(f) >= 2 && strings.EqualFold(f[0], "pgbouncer") {
		return f[1]
	}
	return strings.TrimSpace(s)
}

// Close closes the connection pool. It waits for scrapes in flight to
// release their connections.
func (t *Target) Close() { t.pool.Close() }

// Stat exposes the pool's counters (tests use it to prove that steady-state
// scrapes open no new connections).
func (t *Target) Stat() *pgxpool.Stat { return t.pool.Stat() }
