package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

// wraparoundLimit is 2^31: transaction and multixact IDs compare modulo
// 2^32, so an unfrozen row older than 2^31 IDs would turn from past to
// future. PostgreSQL stops assigning IDs a few million short of it; the
// ratios are against 2^31 itself, the base of the usual thresholds
// (Crunchy's 50 % and 75 %).
const wraparoundLimit = 1 << 31

var (
	xidAgeDesc = prometheus.NewDesc("pg_database_xid_age",
		"Transactions since the database's oldest unfrozen transaction ID (age(datfrozenxid)); autovacuum freezes at autovacuum_freeze_max_age, the server stops at 2^31.",
		[]string{"datname"}, nil)
	mxidAgeDesc = prometheus.NewDesc("pg_database_mxid_age",
		"Multixacts since the database's oldest unfrozen multixact ID (mxid_age(datminmxid)); autovacuum freezes at autovacuum_multixact_freeze_max_age, the server stops at 2^31.",
		[]string{"datname"}, nil)
	xidRatioDesc = prometheus.NewDesc("pg_database_xid_wraparound_ratio",
		"pg_database_xid_age divided by 2^31, the transaction ID wraparound limit.",
		[]string{"datname"}, nil)
	mxidRatioDesc = prometheus.NewDesc("pg_database_mxid_wraparound_ratio",
		"pg_database_mxid_age divided by 2^31, the multixact ID wraparound limit.",
		[]string{"datname"}, nil)
	// Past autovacuum_freeze_max_age autovacuum runs a forced freezing
	// vacuum; well past it (Crunchy's 110 % and 125 %) that vacuum is not
	// keeping up. A ratio to the server's own setting stays right where a
	// provider raised it to 1.5 billion, where a fixed age would fire on a
	// healthy server.
	xidFreezeRatioDesc = prometheus.NewDesc("pg_database_xid_freeze_max_age_ratio",
		"pg_database_xid_age divided by autovacuum_freeze_max_age: above 1 autovacuum should be running a forced freezing vacuum of the database's oldest tables.",
		[]string{"datname"}, nil)
	mxidFreezeRatioDesc = prometheus.NewDesc("pg_database_mxid_freeze_max_age_ratio",
		"pg_database_mxid_age divided by autovacuum_multixact_freeze_max_age.",
		[]string{"datname"}, nil)
	// postgres_exporter's names, kept as a drop-in. Despite "_seconds" they
	// count transactions and multixacts, as theirs do; they cover the
	// databases that accept connections, as theirs do.
	peAgeFrozenxidDesc = prometheus.NewDesc("pg_database_wraparound_age_datfrozenxid_seconds",
		"As pg_database_xid_age, under postgres_exporter's name (a count of transactions, not seconds), for databases that accept connections.",
		[]string{"datname"}, nil)
	peAgeMinmxidDesc = prometheus.NewDesc("pg_database_wraparound_age_datminmxid_seconds",
		"As pg_database_mxid_age, under postgres_exporter's name (a count of multixacts, not seconds), for databases that accept connections.",
		[]string{"datname"}, nil)
)

func init() {
	register("wraparound", "Transaction and multixact ID age per database, against the 2^31 wraparound limit", collectWraparound)
}

// wraparoundSQL covers every database, template0 too: the server stops at
// the oldest datfrozenxid of any of them, connectable or not. pg_database
// is a shared catalog any role may read, so one query on the maintenance
// database serves the server.
const wraparoundSQL = `
SELECT datname, age(datfrozenxid)::float8, mxid_age(datminmxid)::float8, datallowconn,
       current_setting('autovacuum_freeze_max_age')::float8,
       current_setting('autovacuum_multixact_freeze_max_age')::float8
FROM pg_database`

func collectWraparound(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	db, err := s.t.database(s.t.maintenance)
	if err != nil {
		return err
	}
	rows, err := db.pool.Query(ctx, wraparoundSQL)
	if err != nil {
		return fmt.Errorf("wraparound: %w", err)
	}
	var datname string
	var xid, mxid, freezeMax, mxFreezeMax float64
	var allowConn bool
	_, err = pgx.ForEachRow(rows, []any{&datname, &xid, &mxid, &allowConn, &freezeMax, &mxFreezeMax}, func() error {
		ch <- prometheus.MustNewConstMetric(xidAgeDesc, prometheus.GaugeValue, xid, datname)
		ch <- prometheus.MustNewConstMetric(mxidAgeDesc, prometheus.GaugeValue, mxid, datname)
		ch <- prometheus.MustNewConstMetric(xidRatioDesc, prometheus.GaugeValue, xid/wraparoundLimit, datname)
		ch <- prometheus.MustNewConstMetric(mxidRatioDesc, prometheus.GaugeValue, mxid/wraparoundLimit, datname)
		if freezeMax > 0 {
			ch <- prometheus.MustNewConstMetric(xidFreezeRatioDesc, prometheus.GaugeValue, xid/freezeMax, datname)
		}
		if mxFreezeMax > 0 {
			ch <- prometheus.MustNewConstMetric(mxidFreezeRatioDesc, prometheus.GaugeValue, mxid/mxFreezeMax, datname)
		}
		if allowConn {
			ch <- prometheus.MustNewConstMetric(peAgeFrozenxidDesc, prometheus.GaugeValue, xid, datname)
			ch <- prometheus.MustNewConstMetric(peAgeMinmxidDesc, prometheus.GaugeValue, mxid, datname)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("wraparound: %w", err)
	}
	return nil
}
