package postgres

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	tableLabels = []string{"datname", "schemaname", "relname"}
	deadTupDesc = prometheus.NewDesc("pg_stat_user_tables_n_dead_tup",
		"Estimated dead rows of the table (pg_stat_user_tables.n_dead_tup); only the tables with the most dead rows per database.", tableLabels, nil)
	liveTupDesc = prometheus.NewDesc("pg_stat_user_tables_n_live_tup",
		"Estimated live rows of the table (pg_stat_user_tables.n_live_tup); only the tables with the most dead rows per database.", tableLabels, nil)
	deadRatioDesc = prometheus.NewDesc("pg_table_dead_tuple_ratio",
		"Dead rows divided by dead plus live rows of the table; 0 for an empty table.", tableLabels, nil)
	autovacuumAgeDesc = prometheus.NewDesc("pg_table_last_autovacuum_age_seconds",
		"Seconds since autovacuum last vacuumed the table, by the database's clock; absent when it never did.", tableLabels, nil)
	dbDeadTupDesc = prometheus.NewDesc("pg_database_dead_tuples",
		"Estimated dead rows over all user tables of the database.", []string{"datname"}, nil)
	dbLiveTupDesc = prometheus.NewDesc("pg_database_live_tuples",
		"Estimated live rows over all user tables of the database.", []string{"datname"}, nil)
)

func init() {
	register("dead_tuples", "Dead and live tuples per table (top N by dead tuples) and per database", collectDeadTuples)
}

// deadTuplesSQL reads the cumulative statistics only: no relation is
// opened or locked, so a table under ACCESS EXCLUSIVE does not hold this up
// (size functions such as pg_total_relation_size would). It selects the
// tables pg_stat_user_tables shows, but calls the three statistics
// functions it needs directly: the view computes every column and joins
// pg_index for each table, which costs several times more on 10,000
// tables. The window sums run before LIMIT, so every row carries the
// database totals.
const deadTuplesSQL = `
SELECT n.nspname, c.relname, st.dead, st.live,
       extract(epoch FROM clock_timestamp() - st.autovacuumed)::float8,
       sum(st.dead) OVER ()::float8, sum(st.live) OVER ()::float8
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
  SELECT pg_stat_get_dead_tuples(c.oid) AS dead, pg_stat_get_live_tuples(c.oid) AS live,
         pg_stat_get_last_autovacuum_time(c.oid) AS autovacuumed
) st
WHERE c.relkind IN ('r', 't', 'm', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
ORDER BY st.dead DESC, n.nspname, c.relname
LIMIT $1`

func collectDeadTuples(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	return s.eachDatabase(ctx, func(ctx context.Context, db *database) error {
		rows, err := db.pool.Query(ctx, deadTuplesSQL, s.t.opts.TopTables)
		if err != nil {
			return fmt.Errorf("pg_stat_user_tables: %w", err)
		}
		defer rows.Close()
		var totalDead, totalLive float64
		for rows.Next() {
			var schema, rel string
			var dead, live int64
			var age *float64
			if err := rows.Scan(&schema, &rel, &dead, &live, &age, &totalDead, &totalLive); err != nil {
				return fmt.Errorf("pg_stat_user_tables: %w", err)
			}
			ratio := 0.0
			if dead+live > 0 {
				ratio = float64(dead) / float64(dead+live)
			}
			ch <- prometheus.MustNewConstMetric(deadTupDesc, prometheus.GaugeValue, float64(dead), db.name, schema, rel)
			ch <- prometheus.MustNewConstMetric(liveTupDesc, prometheus.GaugeValue, float64(live), db.name, schema, rel)
			ch <- prometheus.MustNewConstMetric(deadRatioDesc, prometheus.GaugeValue, ratio, db.name, schema, rel)
			if age != nil {
				ch <- prometheus.MustNewConstMetric(autovacuumAgeDesc, prometheus.GaugeValue, *age, db.name, schema, rel)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("pg_stat_user_tables: %w", err)
		}
		ch <- prometheus.MustNewConstMetric(dbDeadTupDesc, prometheus.GaugeValue, totalDead, db.name)
		ch <- prometheus.MustNewConstMetric(dbLiveTupDesc, prometheus.GaugeValue, totalLive, db.name)
		return nil
	})
}
