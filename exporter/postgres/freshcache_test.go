package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

// freshnessServer starts a PostgreSQL whose database "app" holds five
// sequences owned by five tables: more than the CacheAbove of 2 the tests
// use, so both cached collectors serve from memory.
func freshnessServer(t *testing.T) *testenv.Postgres {
	t.Helper()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	if err := pg.CreateDatabase(context.Background(), "app"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		mustExec(t, pg, "app", fmt.Sprintf("CREATE TABLE t%d (id serial PRIMARY KEY)", i),
			fmt.Sprintf("INSERT INTO t%d SELECT FROM generate_series(1, 10)", i))
	}
	return pg
}

// lastRefresh is the served refresh time of a collector for app.
func (s *scraped) lastRefresh(t *testing.T, collector string) time.Time {
	t.Helper()
	v := s.value(t, "redline_collector_last_refresh_timestamp_seconds", "collector", collector, "datname", "app")
	return time.Unix(0, int64(v*1e9))
}

func TestCachedSequencesShowASetvalWithinTheMaxAge(t *testing.T) {
	t.Parallel()
	pg := freshnessServer(t)
	const maxAge = 4 * time.Second
	target := newTarget(t, Options{DSN: pg.DSN("postgres"), CacheAbove: 2, CacheMaxAge: maxAge})
	scrapeTarget(t, target, 10*time.Second).requireSuccess(t, "sequences", "dead_tuples")

	// t3's sequence (max 2^31-1) to 99%.
	mustExec(t, pg, "app", "SELECT setval('t3_id_seq', 2126008810)")
	moved := time.Now()
	seq := []string{"datname", "app", "schemaname", "public", "sequence", "t3_id_seq", "cycle", "false"}

	var servedTwice, shown bool
	var prev time.Time
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline) && !shown; {
		start := time.Now()
		s := scrapeTarget(t, target, 10*time.Second)
		s.requireSuccess(t, "sequences", "dead_tuples")
		at := s.lastRefresh(t, "sequences")
		// The bound: nothing served is older than the max age.
		if age := start.Sub(at); age > maxAge {
			t.Fatalf("served a result read %s before the scrape, max age %s", age, maxAge)
		}
		ratio := s.value(t, "pg_sequence_used_ratio", seq...)
		if at.After(moved) {
			// A read that started after the setval committed sees it.
			if !near(ratio, 0.99, 0.001) {
				t.Fatalf("read at %s, after the setval, shows used ratio %v, want 0.99", at, ratio)
			}
			shown = true
		} else if ratio > 0.01 {
			t.Fatalf("read at %s, before the setval, shows used ratio %v", at, ratio)
		}
		servedTwice = servedTwice || at.Equal(prev)
		prev = at
		time.Sleep(200 * time.Millisecond)
	}
	if !shown {
		t.Fatal("the setval never showed")
	}
	if !servedTwice {
		t.Error("no two scrapes served the same read: the database of 5 sequences above CacheAbove 2 was not cached")
	}
}

func TestCachedDeadTuplesExportTheirRefreshTime(t *testing.T) {
	t.Parallel()
	pg := freshnessServer(t)
	const maxAge = 4 * time.Second
	target := newTarget(t, Options{DSN: pg.DSN("postgres"), CacheAbove: 2, CacheMaxAge: maxAge})
	first := scrapeTarget(t, target, 10*time.Second)
	first.requireSuccess(t, "dead_tuples")
	// 10 dead tuples in t2, flushed to the statistics.
	mustExec(t, pg, "app", "UPDATE t2 SET id = id + 100", flushStats(pg))
	bloated := time.Now()
	waitFor(t, pg, "app", "SELECT n_dead_tup = 10 FROM pg_stat_user_tables WHERE relname = 't2'")

	rel := []string{"datname", "app", "schemaname", "public", "relname", "t2"}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the dead tuples never showed")
		}
		start := time.Now()
		s := scrapeTarget(t, target, 10*time.Second)
		s.requireSuccess(t, "dead_tuples")
		at := s.lastRefresh(t, "dead_tuples")
		if age := start.Sub(at); age > maxAge {
			t.Fatalf("served a result read %s before the scrape, max age %s", age, maxAge)
		}
		// Statistics are flushed within a second after the update; a read
		// well after it shows the dead tuples.
		if at.After(bloated.Add(2 * time.Second)) {
			if v := s.value(t, "pg_stat_user_tables_n_dead_tup", rel...); v != 10 {
				t.Fatalf("read at %s shows %v dead tuples in t2, want 10", at, v)
			}
			break
		}
	}
}

func TestSmallDatabasesAreReadOnEveryScrape(t *testing.T) {
	t.Parallel()
	pg := freshnessServer(t)
	// Five sequences and tables: below the default CacheAbove.
	target := newTarget(t, Options{DSN: pg.DSN("postgres"), CacheMaxAge: time.Hour})
	first := scrapeTarget(t, target, 10*time.Second)
	first.requireSuccess(t, "sequences", "dead_tuples")
	mustExec(t, pg, "app", "SELECT setval('t3_id_seq', 2126008810)")
	start := time.Now()
	s := scrapeTarget(t, target, 10*time.Second)
	seq := []string{"datname", "app", "schemaname", "public", "sequence", "t3_id_seq", "cycle", "false"}
	if v := s.value(t, "pg_sequence_used_ratio", seq...); !near(v, 0.99, 0.001) {
		t.Errorf("the scrape right after the setval shows used ratio %v, want 0.99", v)
	}
	for _, c := range []string{"sequences", "dead_tuples"} {
		if at := s.lastRefresh(t, c); at.Before(start) {
			t.Errorf("%s: served a read from %s, before the scrape started (%s)", c, at, start)
		}
	}
}
