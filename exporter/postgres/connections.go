package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	activityDesc = prometheus.NewDesc("pg_stat_activity_count",
		"Client backends per database and state (pg_stat_activity); every state of every connectable database is present, zero when empty.",
		[]string{"datname", "state"}, nil)
	maxConnectionsDesc = prometheus.NewDesc("pg_settings_max_connections",
		"The server's max_connections setting.", nil, nil)
	connectionsUsedDesc = prometheus.NewDesc("pg_connections_used_ratio",
		"Client backends divided by the connection slots open to ordinary roles (max_connections minus the reserved slots); above 1 only superusers can still connect.",
		nil, nil)
)

func init() {
	Collectors.Register("connections", "Client connections per database and state, and the share of usable connection slots in use", collectConnections)
}

// activitySQL counts client backends per database and state. The VALUES
// list fills in zeros so a state's series does not vanish when it empties.
// Background workers, autovacuum and WAL senders have their own slots, so
// only client backends count toward max_connections.
const activitySQL = `
SELECT d.datname, s.state, count(a.pid)
FROM pg_database d
CROSS JOIN (VALUES ('active'), ('idle'), ('idle in transaction'),
                   ('idle in transaction (aborted)'), ('fastpath function call'), ('disabled')) AS s(state)
LEFT JOIN pg_stat_activity a
  ON a.datid = d.oid AND a.state = s.state AND a.backend_type = 'client backend'
WHERE d.datallowconn AND NOT d.datistemplate
GROUP BY d.datname, s.state`

// slotsSQL reads the limits and the backends holding a connection slot.
// reserved_connections (PostgreSQL 16+) is read with missing_ok so the
// query works on older servers.
//
// A role without pg_monitor (pg_read_all_stats) sees other roles' sessions
// with backend_type NULL: those rows still count. A hidden row connected to
// a database as a role is a client backend, or one of the few workers that
// are too (an autovacuum or parallel worker, briefly); the server's own
// processes (checkpointer, WAL writer, the launchers) have no database or
// no role and are left out. Over-counting a transient worker errs towards
// the alert; counting only what the role sees hid a full server.
const slotsSQL = `
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
         + coalesce(nullif(current_setting('reserved_connections', true), ''), '0')::int,
       (SELECT count(*) FROM pg_stat_activity
         WHERE backend_type = 'client backend'
            OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL))`

func collectConnections(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	db, err := s.t.database(s.t.maintenance)
	if err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, activitySQL)
	if err != nil {
		return fmt.Errorf("pg_stat_activity: %w", err)
	}
	var datname, state string
	var count float64
	_, err = pgx.ForEachRow(rows, []any{&datname, &state, &count}, func() error {
		ch <- prometheus.MustNewConstMetric(activityDesc, prometheus.GaugeValue, count, datname, state)
		return nil
	})
	if err != nil {
		return fmt.Errorf("pg_stat_activity: %w", err)
	}

	var maxConns, reserved int
	var backends float64
	if err := db.pool.QueryRow(ctx, slotsSQL).Scan(&maxConns, &reserved, &backends); err != nil {
		return fmt.Errorf("connection settings: %w", err)
	}
	ch <- prometheus.MustNewConstMetric(maxConnectionsDesc, prometheus.GaugeValue, float64(maxConns))
	if usable := maxConns - reserved; usable > 0 {
		ch <- prometheus.MustNewConstMetric(connectionsUsedDesc, prometheus.GaugeValue, backends/float64(usable))
	}
	return nil
}
