package postgres

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/internal/testenv"
)

// BenchmarkScrape measures a full scrape of a server whose database holds
// REDLINE_BENCH_TABLES tables (default 10,000), each with a serial primary
// key (so as many owned sequences) and a few dead tuples, against the same
// SQL run alone on one connection (REDLINE_BENCH_HEAPPROFILE=file also writes
// the steady-state heap profile). Setting up 10,000 tables takes a minute;
// run it on its own:
//
//	go test -run '^$' -bench BenchmarkScrape -benchtime 20x ./exporter/postgres/
func BenchmarkScrape(b *testing.B) {
	n := 10000
	if v := os.Getenv("REDLINE_BENCH_TABLES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			b.Fatalf("REDLINE_BENCH_TABLES=%q", v)
		}
	}
	ctx := context.Background()
	pg := testenv.NewPostgres(b, testenv.PostgresOptions{})
	if err := pg.CreateDatabase(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	const perTx = 500
	for lo := 1; lo <= n; lo += perTx {
		hi := min(lo+perTx-1, n)
		mustExec(b, pg, "bench", fmt.Sprintf(`DO $$ BEGIN FOR i IN %d..%d LOOP
  EXECUTE format('CREATE TABLE t_%%s (id serial PRIMARY KEY, v int)', i);
  EXECUTE format('INSERT INTO t_%%s (v) SELECT g FROM generate_series(1, 10) g', i);
  EXECUTE format('UPDATE t_%%s SET v = 0 WHERE id <= 2', i);
END LOOP; END $$`, lo, hi))
	}
	waitFor(b, pg, "bench", fmt.Sprintf("SELECT count(*) = %d AND sum(n_dead_tup) = %d FROM pg_stat_user_tables", n, 2*n))
	b.Logf("%d tables and sequences set up in %s", n, time.Since(start).Round(time.Second))

	// The first behind-column round runs whole (by default it stops after
	// 10 s and resumes a TTL later), so steady state starts at once.
	target, err := NewTarget(Options{DSN: pg.DSN("postgres"), BehindColumnMaxRuntime: 10 * time.Minute}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer target.Close()
	// The first scrape waits for the first behind-column check; later ones
	// are served from the cache, as in steady state.
	warm := scrapeTarget(b, target, 10*time.Minute)
	warm.requireSuccess(b, allCollectors()...)
	if v := warm.value(b, "pg_database_sequences_checked", "datname", "bench"); v != float64(n) {
		b.Fatalf("checked %v sequences, want %d", v, n)
	}

	b.Run("exporter", func(b *testing.B) {
		var series int
		var took []time.Duration
		var last *scraped
		for b.Loop() {
			s := scrapeTarget(b, target, time.Minute)
			last = s
			took = append(took, s.took)
			series = 0
			for _, mf := range s.families {
				series += len(mf.GetMetric())
			}
		}
		b.ReportMetric(float64(series), "series/scrape")
		reportMedian(b, took)
		// What the target keeps between scrapes (its caches), and the
		// most the heap has held: the exporter's resident memory follows
		// the second.
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "MiB-live-heap")
		b.ReportMetric(float64(ms.HeapSys-ms.HeapReleased)/(1<<20), "MiB-heap-held")
		if f := os.Getenv("REDLINE_BENCH_HEAPPROFILE"); f != "" {
			writeHeapProfile(b, f)
		}
		if last != nil {
			b.Logf("collector durations of the last scrape: %s", fmtSeries(last.series("redline_collector_duration_seconds")))
		}
	})

	b.Run("sql-alone", func(b *testing.B) {
		// The scrape's queries, one after another on an open connection
		// per database: what the collectors cannot go below. The sequence
		// catalog is warm, as in steady state.
		conns := map[string]*pgx.Conn{}
		catalogs := map[string]*sequenceCatalog{}
		for _, db := range []string{"postgres", "bench"} {
			c, err := pgx.Connect(ctx, pg.DSN(db))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close(ctx)
			conns[db] = c
			catalogs[db] = &sequenceCatalog{}
		}
		if err := scrapeSQL(ctx, conns, catalogs); err != nil {
			b.Fatal(err)
		}
		var took []time.Duration
		for b.Loop() {
			start := time.Now()
			if err := scrapeSQL(ctx, conns, catalogs); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		reportMedian(b, took)
	})

	b.Run("sequences-catalog-reload", func(b *testing.B) {
		// What the sequences collector paid on every scrape before the
		// catalog was cached, and now pays only after DDL.
		c, err := pgx.Connect(ctx, pg.DSN("bench"))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(ctx)
		var took []time.Duration
		for b.Loop() {
			start := time.Now()
			if _, _, err := loadCatalog(ctx, c); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		reportMedian(b, took)
	})

	// A background behind-column check in steady state: every table is
	// unchanged since the first check, so no column is looked up.
	b.Run("behind-column-refresh", func(b *testing.B) {
		db, err := target.database("bench")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			r, err := target.checkBehind(ctx, db)
			if err != nil || r.checked != n {
				b.Fatalf("checked %v, %v", r, err)
			}
			b.ReportMetric(float64(r.lookups), "lookups")
		}
	})

	// The first check of a database: every column looked up, up to the
	// run-time cap.
	b.Run("behind-column-first-round", func(b *testing.B) {
		db, err := target.database("bench")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			db.behind.comparisons, db.behind.resumeAfter = nil, 0
			r, err := target.checkBehind(ctx, db)
			if err != nil || r.checked+r.pending != n {
				b.Fatalf("checked %v, %v", r, err)
			}
			b.ReportMetric(float64(r.lookups), "lookups")
		}
	})
}

// scrapeSQL runs the SQL of one steady-state scrape.
func scrapeSQL(ctx context.Context, conns map[string]*pgx.Conn, catalogs map[string]*sequenceCatalog) error {
	drain := func(c *pgx.Conn, sql string, args ...any) error {
		rows, err := c.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	}
	m := conns["postgres"]
	for _, q := range []string{activitySQL, slotsSQL, "SELECT clock_timestamp()", "SELECT clock_timestamp()", "SELECT clock_timestamp()"} {
		if err := drain(m, q); err != nil {
			return err
		}
	}
	if err := drain(m, discoverySQL, []string{}); err != nil {
		return err
	}
	for db, c := range conns {
		if err := drain(c, deadTuplesSQL, 50); err != nil {
			return err
		}
		if _, err := catalogs[db].read(ctx, c, func([]*sequence) {}); err != nil {
			return err
		}
	}
	return nil
}

// reportMedian adds the median iteration time, which load spikes on a
// shared machine move less than the mean.
func reportMedian(b *testing.B, took []time.Duration) {
	slices.Sort(took)
	if len(took) > 0 {
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	}
}

var _ prometheus.Collector = targetCollector{}

// writeHeapProfile writes what the heap holds in steady state (the
// target's caches): `go tool pprof -sample_index=inuse_space` reads it.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
