package pgbouncer

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
)

// userColumns maps SHOW USERS columns to gauges labelled {user}. 1.23 added
// the server-connection limit and count, 1.24 the client-connection ones;
// an older release has none of them and so no series.
var userColumns = []struct {
	column string
	desc   *prometheus.Desc
}{
	{"max_user_connections", userDesc("max_user_connections", "Server connections the user may hold over all its pools, 0 for unlimited: its own max_user_connections or the global one (SHOW USERS, 1.23+).")},
	{"current_connections", userDesc("current_connections", "Server connections the user holds (SHOW USERS current_connections, 1.23+).")},
	{"max_user_client_connections", userDesc("max_user_client_connections", "Client connections the user may open to pgBouncer, 0 for unlimited: its own max_user_client_connections or the global one (SHOW USERS, 1.24+).")},
	{"current_client_connections", userDesc("current_client_connections", "Client connections the user has open to pgBouncer (SHOW USERS current_client_connections, 1.24+).")},
}

func userDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("pgbouncer_users_"+name, help, []string{"user"}, nil)
}

// usersCollector reads SHOW USERS.
type usersCollector struct{ con *console }

func init() {
	register(CollectorUsers, "", "pgBouncer per-user connection limits and counts from SHOW USERS (1.23+)",
		func(c *console) collector.Collector { return usersCollector{c} })
}

func (c usersCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	rows, err := c.con.show(ctx, "SHOW USERS")
	if err != nil {
		return err
	}
	for _, m := range userMetrics(rows) {
		ch <- m
	}
	return nil
}

func userMetrics(rows []row) []prometheus.Metric {
	var out []prometheus.Metric
	seen := map[string]bool{}
	for _, r := range rows {
		name := r["name"]
		if !validLabels(name) || seen[name] {
			continue
		}
		seen[name] = true
		for _, c := range userColumns {
			if v, ok := r.float(c.column); ok {
				out = append(out, prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, name))
			}
		}
	}
	return out
}
