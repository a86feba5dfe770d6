package pgbouncer

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
)

// statsColumns maps SHOW STATS total_* columns to counters labelled
// {database}. scale converts pgBouncer's microseconds to seconds. The avg_*
// columns are left out: rate() over the totals gives the same without
// pgBouncer's stats_period lag.
var statsColumns = []struct {
	column string
	scale  float64
	desc   *prometheus.Desc
}{
	{"total_xact_count", 1, statsDesc("sql_transactions_pooled_total", "SQL transactions pooled (SHOW STATS total_xact_count).")},
	{"total_query_count", 1, statsDesc("queries_pooled_total", "SQL commands pooled (SHOW STATS total_query_count).")},
	{"total_server_assignment_count", 1, statsDesc("server_assignments_total", "Times a server connection was assigned to a client (SHOW STATS total_server_assignment_count, recent releases).")},
	{"total_received", 1, statsDesc("received_bytes_total", "Network traffic received from clients, in bytes (SHOW STATS total_received).")},
	{"total_sent", 1, statsDesc("sent_bytes_total", "Network traffic sent to clients, in bytes (SHOW STATS total_sent).")},
	{"total_xact_time", 1e-6, statsDesc("server_in_transaction_seconds_total", "Time connected to PostgreSQL in a transaction, idle or executing, in seconds (SHOW STATS total_xact_time, microseconds).")},
	{"total_query_time", 1e-6, statsDesc("queries_duration_seconds_total", "Time connected to PostgreSQL executing queries, in seconds (SHOW STATS total_query_time, microseconds).")},
	{"total_wait_time", 1e-6, statsDesc("client_wait_seconds_total", "Time clients waited for a server connection, in seconds (SHOW STATS total_wait_time, microseconds).")},
	{"total_client_parse_count", 1, statsDesc("client_parses_total", "Prepared-statement Parse messages received from clients (SHOW STATS total_client_parse_count, 1.24+).")},
	{"total_server_parse_count", 1, statsDesc("server_parses_total", "Prepared-statement Parse messages sent to PostgreSQL (SHOW STATS total_server_parse_count, 1.24+).")},
	{"total_bind_count", 1, statsDesc("binds_total", "Prepared statements readied for execution with a Bind message (SHOW STATS total_bind_count, 1.24+).")},
}

func statsDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("pgbouncer_stats_"+name, help, []string{"database"}, nil)
}

// statsCollector reads SHOW STATS.
type statsCollector struct{ con *console }

func init() {
	register(CollectorStats, "pgbouncer.stats", "pgBouncer traffic counters from SHOW STATS",
		func(c *console) collector.Collector { return statsCollector{c} })
}

func (c statsCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	rows, err := c.con.show(ctx, "SHOW STATS")
	if err != nil {
		return err
	}
	for _, m := range statsMetrics(rows) {
		ch <- m
	}
	return nil
}

func statsMetrics(rows []row) []prometheus.Metric {
	var out []prometheus.Metric
	seen := map[string]bool{}
	for _, r := range rows {
		db := r["database"]
		if !validLabels(db) || seen[db] {
			continue
		}
		seen[db] = true
		for _, c := range statsColumns {
			if v, ok := r.float(c.column); ok {
				out = append(out, prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, v*c.scale, db))
			}
		}
	}
	return out
}
