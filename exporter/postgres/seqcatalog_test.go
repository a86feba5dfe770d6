package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

// The sequence catalog is cached between scrapes. DDL on sequences shows
// in the very next scrape; a changed owning column (type, rename) shows
// once the statistics are flushed, within seconds.
func TestSequenceCatalogFollowsDDL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, pg, "app",
		"CREATE SEQUENCE a MAXVALUE 1000",
		"SELECT setval('a', 100)",
		"CREATE TABLE t_narrow (id int PRIMARY KEY)",
		"CREATE SEQUENCE owned_seq AS bigint OWNED BY t_narrow.id",
		"SELECT setval('owned_seq', 1073741823)", // half of int4
	)
	target := newTarget(t, Options{DSN: pg.DSN("postgres"), Databases: []string{"app"}})
	ratio := func(s *scraped, seq string) float64 {
		t.Helper()
		return s.value(t, "pg_sequence_used_ratio", "datname", "app", "sequence", seq)
	}
	scrape := func() *scraped {
		t.Helper()
		s := scrapeTarget(t, target, 10*time.Second)
		s.requireSuccess(t, "sequences")
		return s
	}
	s := scrape()
	if r := ratio(s, "a"); !near(r, 99.0/999, 0.001) {
		t.Fatalf("a: used ratio %v", r)
	}
	if r := ratio(s, "owned_seq"); !near(r, 0.5, 0.001) {
		t.Fatalf("owned_seq: used ratio %v, want 0.5 (capped by the int4 column)", r)
	}

	// The catalog is served from the cache: a value change alone is read.
	db, _ := target.database("app")
	loaded := db.sequences.loaded
	mustExec(t, pg, "app", "SELECT setval('a', 500)")
	s = scrape()
	if r := ratio(s, "a"); !near(r, 499.0/999, 0.001) {
		t.Errorf("a after setval: used ratio %v", r)
	}
	if db.sequences.loaded != loaded {
		t.Error("the catalog was reloaded though no DDL ran")
	}

	// CREATE, ALTER and DROP SEQUENCE: exact in the next scrape.
	mustExec(t, pg, "app",
		"CREATE SEQUENCE b MAXVALUE 100",
		"SELECT setval('b', 91)",
		"ALTER SEQUENCE a MAXVALUE 600",
	)
	s = scrape()
	if r := ratio(s, "b"); !near(r, 90.0/99, 0.001) {
		t.Errorf("new sequence b: used ratio %v", r)
	}
	if r := ratio(s, "a"); !near(r, 499.0/599, 0.001) {
		t.Errorf("a after ALTER SEQUENCE: used ratio %v, want %v", r, 499.0/599)
	}
	mustExec(t, pg, "app", "DROP SEQUENCE b")
	s = scrape()
	if s.has("pg_sequence_used_ratio", "sequence", "b") {
		t.Error("dropped sequence b still exposed")
	}
	if v := s.value(t, "pg_database_sequences_unreadable", "datname", "app"); v != 0 {
		t.Errorf("unreadable = %v after a drop, want 0", v)
	}

	// Widening the owning column and renaming the sequence change
	// pg_attribute and pg_class only.
	mustExec(t, pg, "app",
		"ALTER TABLE t_narrow ALTER COLUMN id TYPE bigint",
		"ALTER SEQUENCE owned_seq RENAME TO owned_wide",
	)
	deadline := time.Now().Add(20 * time.Second)
	for {
		s = scrape()
		if s.has("pg_sequence_used_ratio", "sequence", "owned_wide") {
			if r := ratio(s, "owned_wide"); r > 0.001 {
				t.Errorf("owned_wide: used ratio %v, want about 1e-10 once the column is bigint", r)
			}
			if s.has("pg_sequence_used_ratio", "sequence", "owned_seq") {
				t.Error("the old name is still exposed")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rename and column type change not seen within 20s: %v", fmtSeries(s.series("pg_sequence_used_ratio")))
		}
		time.Sleep(500 * time.Millisecond)
	}
}
