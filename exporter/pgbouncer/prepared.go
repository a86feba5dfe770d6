package pgbouncer

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
)

// pgBouncer 1.21+ tracks protocol-level prepared statements in transaction
// and statement pooling: each server connection caches up to
// max_prepared_statements of them (SHOW CONFIG) and evicts the least
// recently used beyond it, which re-prepares on the next use. SHOW SERVERS
// and SHOW CLIENTS count them per connection; these sum them per pool, and
// the fullest server connection tells how close the cache is to evicting.
var (
	serverPreparedDesc = prometheus.NewDesc("pgbouncer_servers_prepared_statements",
		"Prepared statements cached on the pool's server connections, summed (SHOW SERVERS prepared_statements, 1.21+).",
		[]string{"database", "user"}, nil)
	serverPreparedMaxDesc = prometheus.NewDesc("pgbouncer_servers_prepared_statements_max",
		"Prepared statements on the pool's fullest server connection; at max_prepared_statements pgBouncer evicts (SHOW SERVERS prepared_statements, 1.21+).",
		[]string{"database", "user"}, nil)
	clientPreparedDesc = prometheus.NewDesc("pgbouncer_clients_prepared_statements",
		"Prepared statements the pool's clients have prepared, summed (SHOW CLIENTS prepared_statements, 1.21+).",
		[]string{"database", "user"}, nil)
)

// preparedCollector reads SHOW SERVERS and SHOW CLIENTS: one row per
// connection, so its cost grows with the clients pgBouncer holds.
type preparedCollector struct{ con *console }

func init() {
	register(CollectorPrepared, "", "pgBouncer prepared statements per pool from SHOW SERVERS and SHOW CLIENTS (1.21+; one row per connection)",
		func(c *console) collector.Collector { return preparedCollector{c} })
}

func (c preparedCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	servers, err := c.con.show(ctx, "SHOW SERVERS")
	if err != nil {
		return err
	}
	clients, err := c.con.show(ctx, "SHOW CLIENTS")
	if err != nil {
		return err
	}
	for _, m := range preparedMetrics(servers, clients) {
		ch <- m
	}
	return nil
}

func preparedMetrics(servers, clients []row) []prometheus.Metric {
	type agg struct {
		sum, max float64
	}
	var out []prometheus.Metric
	perPool := func(rows []row) (map[[2]string]*agg, [][2]string) {
		m := map[[2]string]*agg{}
		var order [][2]string
		for _, r := range rows {
			n, ok := r.float("prepared_statements")
			if !ok || !validLabels(r["database"], r["user"]) {
				continue // before 1.21: no column, no series
			}
			key := [2]string{r["database"], r["user"]}
			a := m[key]
			if a == nil {
				a = &agg{}
				m[key] = a
				order = append(order, key)
			}
			a.sum += n
			a.max = max(a.max, n)
		}
		return m, order
	}
	s, order := perPool(servers)
	for _, k := range order {
		out = append(out,
			prometheus.MustNewConstMetric(serverPreparedDesc, prometheus.GaugeValue, s[k].sum, k[0], k[1]),
			prometheus.MustNewConstMetric(serverPreparedMaxDesc, prometheus.GaugeValue, s[k].max, k[0], k[1]))
	}
	c, order := perPool(clients)
	for _, k := range order {
		out = append(out, prometheus.MustNewConstMetric(clientPreparedDesc, prometheus.GaugeValue, c[k].sum, k[0], k[1]))
	}
	return out
}
