package postgres

import (
	"context"
	"fmt"
	"time"

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
	Collectors.Register("dead_tuples", "Dead and live tuples per table (top N by dead tuples) and per database", collectDeadTuples)
}

// deadTuplesSQL reads the cumulative statistics only: no relation is
// opened or locked, so a table under ACCESS EXCLUSIVE does not hold this up
// (size functions such as pg_total_relation_size would). It selects the
// tables pg_stat_user_tables shows, but calls the three statistics
// functions it needs directly: the view computes every column and joins
// pg_index for each table, which costs several times more on 10,000
// tables. The window sums run before LIMIT, so every row carries the
// database totals and
// the table count.
const deadTuplesSQL = `
SELECT n.nspname, c.relname, st.dead, st.live,
       extract(epoch FROM clock_timestamp() - st.autovacuumed)::float8,
       sum(st.dead) OVER ()::float8, sum(st.live) OVER ()::float8, count(*) OVER ()
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

// deadTuples is a database's top tables by dead tuples and its totals.
type deadTuples struct {
	top                  []tableTuples
	totalDead, totalLive float64
}

type tableTuples struct {
	schema, rel string
	dead, live  int64
	vacuumAge   *float64 // seconds since the last autovacuum, nil when never
}

func collectDeadTuples(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	return s.eachDatabase(ctx, func(ctx context.Context, db *database) error {
		r, at, err := db.deadTuples.get(ctx, s.t, db, "dead_tuples", func(ctx context.Context) (deadTuples, int, error) {
			return readDeadTuples(ctx, db, s.t.opts.TopTables)
		})
		if err != nil {
			return err
		}
		for _, t := range r.top {
			ratio := 0.0
			if t.dead+t.live > 0 {
				ratio = float64(t.dead) / float64(t.dead+t.live)
			}
			ch <- prometheus.MustNewConstMetric(deadTupDesc, prometheus.GaugeValue, float64(t.dead), db.name, t.schema, t.rel)
			ch <- prometheus.MustNewConstMetric(liveTupDesc, prometheus.GaugeValue, float64(t.live), db.name, t.schema, t.rel)
			ch <- prometheus.MustNewConstMetric(deadRatioDesc, prometheus.GaugeValue, ratio, db.name, t.schema, t.rel)
			if t.vacuumAge != nil {
				// The age grows while the result is cached.
				ch <- prometheus.MustNewConstMetric(autovacuumAgeDesc, prometheus.GaugeValue, *t.vacuumAge+time.Since(at).Seconds(), db.name, t.schema, t.rel)
			}
		}
		ch <- prometheus.MustNewConstMetric(dbDeadTupDesc, prometheus.GaugeValue, r.totalDead, db.name)
		ch <- prometheus.MustNewConstMetric(dbLiveTupDesc, prometheus.GaugeValue, r.totalLive, db.name)
		ch <- lastRefreshMetric("dead_tuples", db.name, at)
		return nil
	})
}

// readDeadTuples runs deadTuplesSQL; objects is the tables it went through.
func readDeadTuples(ctx context.Context, db *database, top int) (r deadTuples, objects int, err error) {
	rows, err := db.pool.Query(ctx, deadTuplesSQL, top)
	if err != nil {
		return r, 0, fmt.Errorf("pg_stat_user_tables: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t tableTuples
		if err := rows.Scan(&t.schema, &t.rel, &t.dead, &t.live, &t.vacuumAge, &r.totalDead, &r.totalLive, &objects); err != nil {
			return r, 0, fmt.Errorf("pg_stat_user_tables: %w", err)
		}
		r.top = append(r.top, t)
	}
	if err := rows.Err(); err != nil {
		return r, 0, fmt.Errorf("pg_stat_user_tables: %w", err)
	}
	return r, objects, nil
}
