package pgbouncer

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
)

// databaseLabels are pgbouncer_exporter's labels for SHOW DATABASES, so its
// dashboards and alerts read these series: name is the entry clients connect
// to (the pool's database in SHOW POOLS), database the backend database it
// points at; the others are the entry's settings. A NULL column (force_user
// unset, host for a Unix socket) is the empty value.
var databaseLabels = []string{"name", "database", "host", "port", "pool_mode", "force_user"}

// databaseColumns maps SHOW DATABASES columns to gauges. Each entry lists
// the column's names, newest first: older releases call reserve_pool_size
// reserve_pool.
var databaseColumns = []struct {
	columns []string
	desc    *prometheus.Desc
}{
	{[]string{"pool_size"}, databaseDesc("pool_size", "Server connections allowed per (database, user) pool, default_pool_size applied (SHOW DATABASES pool_size).")},
	{[]string{"min_pool_size"}, databaseDesc("min_pool_size", "Server connections kept open per pool at least (SHOW DATABASES min_pool_size).")},
	{[]string{"reserve_pool_size", "reserve_pool"}, databaseDesc("reserve_pool", "Additional server connections a pool may open when clients wait too long (SHOW DATABASES reserve_pool_size, reserve_pool in older releases); pgbouncer_exporter's name.")},
	{[]string{"reserve_pool_size", "reserve_pool"}, databaseDesc("reserve_pool_size", "Deprecated: the same value as pgbouncer_databases_reserve_pool, kept under redline 0.1's name until 0.3.")},
	{[]string{"max_connections"}, databaseDesc("max_connections", "Server connections allowed for the database over all its pools, 0 for unlimited (SHOW DATABASES max_connections).")},
	{[]string{"current_connections"}, databaseDesc("current_connections", "Server connections open for the database (SHOW DATABASES current_connections).")},
	{[]string{"max_client_connections"}, databaseDesc("max_client_connections", "Client connections allowed for the database, 0 for unlimited (SHOW DATABASES max_client_connections, recent releases).")},
	{[]string{"current_client_connections"}, databaseDesc("current_client_connections", "Client connections to the database (SHOW DATABASES current_client_connections, recent releases).")},
	{[]string{"paused"}, databaseDesc("paused", "1 when the database is paused (SHOW DATABASES paused).")},
	{[]string{"disabled"}, databaseDesc("disabled", "1 when the database is disabled (SHOW DATABASES disabled).")},
}

func databaseDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("pgbouncer_databases_"+name, help, databaseLabels, nil)
}

// databasesCollector reads SHOW DATABASES.
type databasesCollector struct{ con *console }

func init() {
	register(CollectorDatabases, "pgbouncer.databases", "pgBouncer databases from SHOW DATABASES",
		func(c *console) collector.Collector { return databasesCollector{c} })
}

func (c databasesCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	rows, err := c.con.show(ctx, "SHOW DATABASES")
	if err != nil {
		return err
	}
	for _, m := range databaseMetrics(rows) {
		ch <- m
	}
	return nil
}

func databaseMetrics(rows []row) []prometheus.Metric {
	var out []prometheus.Metric
	seen := map[string]bool{}
	for _, r := range rows {
		name := r["name"]
		labels := make([]string, len(databaseLabels))
		for i, l := range databaseLabels {
			labels[i] = r[l]
		}
		if !validLabels(labels...) || seen[name] {
			continue
		}
		seen[name] = true
		for _, c := range databaseColumns {
			for _, col := range c.columns {
				if v, ok := r.float(col); ok {
					out = append(out, prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, labels...))
					break
				}
			}
		}
	}
	return out
}
