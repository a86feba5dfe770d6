package pgbouncer

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

var unknownColumnsDesc = prometheus.NewDesc("redline_pgbouncer_unknown_columns",
	"Columns in pgBouncer's last answer to a SHOW command that redline does not know (a release newer than 1.25 added them); they are ignored, and the series redline knows are served as before.",
	[]string{"command"}, nil)

// knownColumns are, per command, every column pgBouncer 1.16 through 1.25
// answers with (read from each release's src/admin.c and src/stats.c;
// exporter/pgbouncer/testdata/show_columns.txt lists them by release),
// whether redline reads it or ignores it on purpose. A column outside
// these is new to redline: counted in redline_pgbouncer_unknown_columns and
// logged once, so an upgrade that adds one is visible before anyone asks
// why a panel lacks it.
var knownColumns = map[string][]string{
	"SHOW POOLS": {"database", "user", "cl_active", "cl_waiting", "cl_cancel_req", "cl_active_cancel_req", "cl_waiting_cancel_req",
		"sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used", "sv_tested", "sv_login",
		"maxwait", "maxwait_us", "pool_mode", "load_balance_hosts"},
	"SHOW DATABASES": {"name", "host", "port", "database", "force_user", "pool_size", "min_pool_size", "reserve_pool", "reserve_pool_size",
		"server_lifetime", "pool_mode", "load_balance_hosts", "max_connections", "current_connections",
		"max_client_connections", "current_client_connections", "paused", "disabled"},
	"SHOW USERS": {"name", "pool_size", "reserve_pool_size", "pool_mode", "max_user_connections", "current_connections",
		"max_user_client_connections", "current_client_connections"},
	"SHOW STATS": {"database",
		"total_server_assignment_count", "total_xact_count", "total_query_count", "total_received", "total_sent",
		"total_xact_time", "total_query_time", "total_wait_time", "total_client_parse_count", "total_server_parse_count", "total_bind_count",
		"avg_server_assignment_count", "avg_xact_count", "avg_query_count", "avg_recv", "avg_sent",
		"avg_xact_time", "avg_query_time", "avg_wait_time", "avg_client_parse_count", "avg_server_parse_count", "avg_bind_count"},
	"SHOW CONFIG":  {"key", "value", "default", "changeable"},
	"SHOW LISTS":   {"list", "items"},
	"SHOW SERVERS": socketColumns,
	"SHOW CLIENTS": socketColumns,
	"SHOW VERSION": {"version"},
}

// socketColumns are SHOW SERVERS' and SHOW CLIENTS' columns.
var socketColumns = []string{"type", "user", "database", "replication", "state", "addr", "port", "local_addr", "local_port",
	"connect_time", "request_time", "wait", "wait_us", "close_needed", "ptr", "link", "remote_pid", "tls",
	"application_name", "prepared_statements", "id"}

var knownSet = func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for cmd, cols := range knownColumns {
		out[cmd] = map[string]bool{}
		for _, c := range cols {
			out[cmd][c] = true
		}
	}
	return out
}()

// console is one pgBouncer's admin console as the collectors share it: the
// connection pool, and what each command's last answer held that redline
// does not know.
type console struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	mu      sync.Mutex
	unknown map[string][]string // command → unknown columns of its last answer
}

// show runs a SHOW command (showQuery) and notes its unknown columns.
func (c *console) show(ctx context.Context, command string) ([]row, error) {
	rows, columns, err := showQueryColumns(ctx, c.pool, command)
	if err != nil {
		return nil, err
	}
	known := knownSet[command]
	var unknown []string
	for _, col := range columns {
		if known != nil && !known[col] {
			unknown = append(unknown, col)
		}
	}
	sort.Strings(unknown)
	c.mu.Lock()
	before, seen := c.unknown[command]
	c.unknown[command] = unknown
	c.mu.Unlock()
	if len(unknown) > 0 && (!seen || strings.Join(before, ",") != strings.Join(unknown, ",")) {
		c.logger.Info("pgbouncer answers with columns redline does not know; they are ignored", "command", command, "columns", strings.Join(unknown, ","))
	}
	return rows, nil
}

// collectUnknown sends the unknown-column count of every command answered
// so far (once per command, however many collectors ran it).
func (c *console) collectUnknown(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for cmd, cols := range c.unknown {
		ch <- prometheus.MustNewConstMetric(unknownColumnsDesc, prometheus.GaugeValue, float64(len(cols)), cmd)
	}
}
