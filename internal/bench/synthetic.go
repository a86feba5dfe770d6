// Package bench builds the synthetic database the benchmark measures
// exporters on, and measures one exporter: scrape latency, series count,
// response size, resident memory, and the database connections and
// pgBouncer logins its scrapes cause.
package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Shape says how big the synthetic database is.
type Shape struct {
	Databases       int // databases, each with the same layout
	Schemas         int // schemas per database
	TablesPerSchema int // each table has a bigserial id, so one sequence per table
	RowsPerTable    int // half the rows are updated, leaving dead tuples
}

// Tables is the total number of tables (and sequences) the shape creates.
func (s Shape) Tables() int { return s.Databases * s.Schemas * s.TablesPerSchema }

// DatabaseNames lists the databases Build creates.
func (s Shape) DatabaseNames() []string {
	names := make([]string, s.Databases)
	for i := range names {
		names[i] = fmt.Sprintf("bench_%d", i+1)
	}
	return names
}

// Build creates the databases of shape with superuserDSN(db) giving a
// connection string for each. Tables are created and filled server-side in
// one DO block per schema, which keeps a 10,000-table build to tens of
// seconds.
func Build(ctx context.Context, superuserDSN func(db string) string, shape Shape) error {
	admin, err := pgx.Connect(ctx, superuserDSN("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	for _, db := range shape.DatabaseNames() {
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			return fmt.Errorf("create %s: %w", db, err)
		}
		if err := buildDatabase(ctx, superuserDSN(db), shape); err != nil {
			return fmt.Errorf("%s: %w", db, err)
		}
	}
	return nil
}

func buildDatabase(ctx context.Context, dsn string, shape Shape) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for s := 1; s <= shape.Schemas; s++ {
		schema := fmt.Sprintf("s%02d", s)
		// Row counts vary by table so the top-N by dead tuples is a real
		// ranking, not a tie.
		block := fmt.Sprintf(`
DO $$
DECLARE
  i int;
  t text;
BEGIN
  EXECUTE 'CREATE SCHEMA %[1]s';
  FOR i IN 1..%[2]d LOOP
    t := format('%%I.%%I', '%[1]s', 't' || i);
    EXECUTE format('CREATE TABLE %%s (id bigserial PRIMARY KEY, v int NOT NULL)', t);
    EXECUTE format('INSERT INTO %%s (v) SELECT g FROM generate_series(1, %%s) g', t, %[3]d + i %% 17);
    EXECUTE format('UPDATE %%s SET v = v + 1 WHERE id %%%% 2 = 0', t);
  END LOOP;
END $$`, schema, shape.TablesPerSchema, shape.RowsPerTable)
		if _, err := conn.Exec(ctx, block); err != nil {
			return fmt.Errorf("schema %s: %w", schema, err)
		}
	}
	// Statistics reach pg_stat_user_tables asynchronously; a snapshot
	// flush makes them visible before the first scrape.
	_, _ = conn.Exec(ctx, "SELECT pg_stat_force_next_flush()")
	return nil
}
