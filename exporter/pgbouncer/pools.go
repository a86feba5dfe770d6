package pgbouncer

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
)

// poolColumns maps SHOW POOLS columns to gauges labelled {database,user},
// each under its names newest first. Columns a release lacks (maxwait_us
// before 1.8, sv_active_cancel before 1.18) are skipped for that release;
// 1.16 and 1.17 count the cancel requests not yet forwarded as
// cl_cancel_req, which 1.18 renamed cl_waiting_cancel_req.
var poolColumns = []struct {
	columns []string
	desc    *prometheus.Desc
}{
	{[]string{"cl_active"}, poolDesc("client_active_connections", "Client connections linked to a server connection or idle with no queries waiting (SHOW POOLS cl_active).")},
	{[]string{"cl_waiting"}, poolDesc("client_waiting_connections", "Client connections that have sent queries but have not yet got a server connection (SHOW POOLS cl_waiting).")},
	{[]string{"cl_active_cancel_req"}, poolDesc("client_active_cancel_connections", "Client connections that forwarded a cancel request and wait for the server's answer (SHOW POOLS cl_active_cancel_req).")},
	{[]string{"cl_waiting_cancel_req", "cl_cancel_req"}, poolDesc("client_waiting_cancel_connections", "Client connections whose cancel request has not been forwarded yet (SHOW POOLS cl_waiting_cancel_req, cl_cancel_req in 1.16 and 1.17).")},
	{[]string{"sv_active"}, poolDesc("server_active_connections", "Server connections linked to a client (SHOW POOLS sv_active).")},
	{[]string{"sv_active_cancel"}, poolDesc("server_active_cancel_connections", "Server connections forwarding a cancel request (SHOW POOLS sv_active_cancel).")},
	{[]string{"sv_being_canceled"}, poolDesc("server_being_canceled_connections", "Server connections waiting for in-flight cancel requests before becoming idle (SHOW POOLS sv_being_canceled).")},
	{[]string{"sv_idle"}, poolDesc("server_idle_connections", "Server connections unused and immediately usable (SHOW POOLS sv_idle).")},
	{[]string{"sv_used"}, poolDesc("server_used_connections", "Server connections idle longer than server_check_delay, to be checked before use (SHOW POOLS sv_used).")},
	{[]string{"sv_tested"}, poolDesc("server_testing_connections", "Server connections running server_reset_query or server_check_query (SHOW POOLS sv_tested).")},
	{[]string{"sv_login"}, poolDesc("server_login_connections", "Server connections logging in (SHOW POOLS sv_login).")},
}

var (
	maxwaitDesc = poolDesc("client_maxwait_seconds",
		"How long the oldest waiting client has waited for a server connection, in seconds (SHOW POOLS maxwait + maxwait_us).")
	saturationDesc = prometheus.NewDesc("pgbouncer_pool_saturation_ratio",
		"Server connections linked to a client (SHOW POOLS sv_active) divided by the pool's effective pool_size: "+
			"the user's pool_size override from SHOW USERS when set, else the database's pool_size from SHOW DATABASES. "+
			"1 means every pool slot is busy; above 1 means reserve pool connections are in use.",
		[]string{"database", "user"}, nil)
	effectiveSizeDesc = prometheus.NewDesc("pgbouncer_pool_effective_size",
		"The pool_size that pgbouncer_pool_saturation_ratio divides by (user override from SHOW USERS, else SHOW DATABASES pool_size).",
		[]string{"database", "user"}, nil)
)

func poolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("pgbouncer_pools_"+name, help, []string{"database", "user"}, nil)
}

// poolsCollector reads SHOW POOLS, and SHOW DATABASES and SHOW USERS for the
// pool sizes behind the saturation ratio.
type poolsCollector struct{ con *console }

func init() {
	register(CollectorPools, "pgbouncer.pools", "pgBouncer pools from SHOW POOLS, with pgbouncer_pool_saturation_ratio",
		func(c *console) collector.Collector { return poolsCollector{c} })
}

func (c poolsCollector) Update(ctx context.Context, ch chan<- prometheus.Metric) error {
	pools, err := c.con.show(ctx, "SHOW POOLS")
	if err != nil {
		return err
	}
	dbs, err := c.con.show(ctx, "SHOW DATABASES")
	if err != nil {
		return err
	}
	users, err := c.con.show(ctx, "SHOW USERS")
	if err != nil {
		return err
	}
	for _, m := range poolMetrics(pools, poolSizes(dbs, users)) {
		ch <- m
	}
	return nil
}

// sizes holds what decides a pool's effective pool_size.
type sizes struct {
	database map[string]int64 // SHOW DATABASES name → pool_size
	user     map[string]int64 // SHOW USERS name → pool_size, only where set
}

// poolSizes collects the pool_size columns. pgBouncer prints a database's
// pool_size already resolved against default_pool_size; SHOW USERS has a
// pool_size column (NULL when not overridden) only in newer releases.
func poolSizes(dbs, users []row) sizes {
	s := sizes{database: map[string]int64{}, user: map[string]int64{}}
	for _, r := range dbs {
		if n, ok := r.int("pool_size"); ok {
			s.database[r["name"]] = n
		}
	}
	for _, r := range users {
		if n, ok := r.int("pool_size"); ok && n >= 0 {
			s.user[r["name"]] = n
		}
	}
	return s
}

// effective mirrors pgBouncer's choice of a pool's size: the user's
// override, else the database's. ok is false when neither is known.
func (s sizes) effective(database, user string) (int64, bool) {
	if n, ok := s.user[user]; ok {
		return n, true
	}
	n, ok := s.database[database]
	return n, ok
}

func poolMetrics(pools []row, s sizes) []prometheus.Metric {
	var out []prometheus.Metric
	seen := map[[2]string]bool{}
	for _, r := range pools {
		db, user := r["database"], r["user"]
		key := [2]string{db, user}
		if !validLabels(db, user) || seen[key] {
			continue // one series per pool; a duplicate row would break the whole exposition
		}
		seen[key] = true
		for _, c := range poolColumns {
			for _, col := range c.columns {
				if v, ok := r.float(col); ok {
					out = append(out, prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, db, user))
					break
				}
			}
		}
		if sec, ok := r.float("maxwait"); ok {
			us, _ := r.float("maxwait_us")
			out = append(out, prometheus.MustNewConstMetric(maxwaitDesc, prometheus.GaugeValue, sec+us/1e6, db, user))
		}
		active, okActive := r.float("sv_active")
		size, okSize := s.effective(db, user)
		if okActive && okSize && size > 0 {
			out = append(out,
				prometheus.MustNewConstMetric(saturationDesc, prometheus.GaugeValue, active/float64(size), db, user),
				prometheus.MustNewConstMetric(effectiveSizeDesc, prometheus.GaugeValue, float64(size), db, user))
		}
	}
	return out
}
