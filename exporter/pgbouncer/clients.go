package pgbouncer

import (
	"context"
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
)

var (
	maxClientConnDesc = prometheus.NewDesc("pgbouncer_config_max_client_connections",
		"Client connections pgBouncer accepts at most (SHOW CONFIG max_client_conn).", nil, nil)
	maxUserConnDesc = prometheus.NewDesc("pgbouncer_config_max_user_connections",
		"Server connections pgBouncer opens at most per user over all its pools, 0 for unlimited (SHOW CONFIG max_user_connections).", nil, nil)
	maxPreparedDesc = prometheus.NewDesc("pgbouncer_config_max_prepared_statements",
		"Prepared statements pgBouncer caches per server connection in transaction and statement pooling, 0 when its prepared-statement support is off (SHOW CONFIG max_prepared_statements, 1.21+).", nil, nil)
	usedClientsDesc = prometheus.NewDesc("pgbouncer_used_clients",
		"Client connections pgBouncer holds, in every state including login and the admin console (SHOW LISTS used_clients).", nil, nil)
	clientRatioDesc = prometheus.NewDesc("pgbouncer_client_connections_ratio",
		"Client connections (SHOW LISTS used_clients) divided by max_client_conn (SHOW CONFIG): at 1 pgBouncer refuses new clients.", nil, nil)
)

// clientsCollector compares the client connections with max_client_conn.
// It counts SHOW LISTS used_clients because that is the number pgBouncer
// itself checks against max_client_conn (SHOW POOLS misses clients still
// logging in).
type clientsCollector struct{ con *console }

func init() {
	register(CollectorClients, "pgbouncer.clients", "pgBouncer client connections against max_client_conn (SHOW CONFIG, SHOW LISTS)",
		func(c *console) collector.Collector { return clientsCollector{c} })
}

func (c clientsCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	config, err := c.con.show(ctx, "SHOW CONFIG")
	if err != nil {
		return err
	}
	lists, err := c.con.show(ctx, "SHOW LISTS")
	if err != nil {
		return err
	}
	metrics, err := clientMetrics(config, lists)
	for _, m := range metrics {
		ch <- m
	}
	return err
}

func clientMetrics(config, lists []row) ([]prometheus.Metric, error) {
	var out []prometheus.Metric
	maxConn, okMax := setting(config, "max_client_conn")
	if okMax {
		out = append(out, prometheus.MustNewConstMetric(maxClientConnDesc, prometheus.GaugeValue, maxConn))
	}
	// The pgbouncer mixin's saturation alerts divide by this one.
	if v, ok := setting(config, "max_user_connections"); ok {
		out = append(out, prometheus.MustNewConstMetric(maxUserConnDesc, prometheus.GaugeValue, v))
	}
	if v, ok := setting(config, "max_prepared_statements"); ok {
		out = append(out, prometheus.MustNewConstMetric(maxPreparedDesc, prometheus.GaugeValue, v))
	}
	used, okUsed := listItem(lists, "used_clients")
	if okUsed {
		out = append(out, prometheus.MustNewConstMetric(usedClientsDesc, prometheus.GaugeValue, used))
	}
	if okMax && okUsed && maxConn > 0 {
		out = append(out, prometheus.MustNewConstMetric(clientRatioDesc, prometheus.GaugeValue, used/maxConn))
	}
	if !okMax || !okUsed {
		return out, errors.New("SHOW CONFIG max_client_conn or SHOW LISTS used_clients missing")
	}
	return out, nil
}

// setting finds a SHOW CONFIG value (rows of key, value, default, changeable).
func setting(rows []row, key string) (float64, bool) {
	for _, r := range rows {
		if r["key"] == key {
			v, err := strconv.ParseFloat(r["value"], 64)
			return v, err == nil
		}
	}
	return 0, false
}

// listItem finds a SHOW LISTS entry. pgBouncer 1.18 answers with rows of
// (list, items); a row with one column per list name is read as well, so a
// release that pivots the answer keeps working.
func listItem(rows []row, name string) (float64, bool) {
	for _, r := range rows {
		if r["list"] == name {
			return r.float("items")
		}
		if v, ok := r.float(name); ok {
			return v, true
		}
	}
	return 0, false
}
