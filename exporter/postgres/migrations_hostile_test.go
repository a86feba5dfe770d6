package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

// Look-alike history tables with what the tools never write: NULL and ”
// where a value belongs, a FAILED Liquibase changeset, a start time of
// 'infinity'. NULLs are read as what they mean (nothing recorded), and a
// table whose row the collector cannot take is unreadable on its own: the
// collector and every other table still report. A NULL started_at used to
// fail the whole collector on every scrape ("cannot scan NULL").
func TestMigrationLookAlikesWithOddValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	if err := pg.CreateDatabase(ctx, "odd"); err != nil {
		t.Fatal(err)
	}
	// Prisma's columns without its NOT NULLs.
	prismaLike := strings.NewReplacer("NOT NULL DEFAULT now()", "", "VARCHAR(255) NOT NULL", "VARCHAR(255)").Replace(prismaDDL)
	var sql []string
	for _, s := range []string{"nulls", "inf", "al", "lb", "gm"} {
		sql = append(sql, "CREATE SCHEMA "+s)
	}
	sql = append(sql, inSchema("nulls", prismaLike)...)
	sql = append(sql, `INSERT INTO nulls._prisma_migrations (id, checksum, finished_at, migration_name, started_at) VALUES
  ('a', 'x', '2026-01-01 10:00:01+00', '20260101_init', '2026-01-01 10:00:00+00'),
  ('b', 'x', '2026-01-02 10:00:01+00', NULL, '2026-01-02 10:00:00+00'),
  ('c', 'x', NULL, '20260103_bad', NULL)`)
	sql = append(sql, inSchema("inf", prismaDDL)...)
	sql = append(sql, `INSERT INTO inf._prisma_migrations (id, checksum, finished_at, migration_name, started_at) VALUES
  ('a', 'x', NULL, '20260101_init', 'infinity')`)
	sql = append(sql, inSchema("al", strings.Replace(alembicDDL, ", CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)", "", 1))...)
	sql = append(sql, "INSERT INTO al.alembic_version VALUES (''), ('ae1027a6acf')")
	sql = append(sql, inSchema("lb", liquibaseDDL...)...)
	sql = append(sql, `INSERT INTO lb.databasechangelog (id, author, filename, dateexecuted, orderexecuted, exectype) VALUES
  ('create-orders', 'dev', 'db.xml', '2026-01-01 10:00:00', 1, 'EXECUTED'),
  ('broken', 'dev', 'db.xml', '2026-01-02 10:00:00', 2, 'FAILED')`,
		"INSERT INTO lb.databasechangeloglock VALUES (1, false, NULL, NULL)")
	sql = append(sql, "CREATE TABLE gm.schema_migrations (version bigint, dirty boolean)",
		"INSERT INTO gm.schema_migrations VALUES (NULL, NULL), (20260105, false)")
	mustExec(t, pg, "odd", sql...)

	target := newTarget(t, Options{DSN: pg.DSN("postgres"), Databases: []string{"odd"}})
	s := scrapeTarget(t, target, 10*time.Second)
	s.requireSuccess(t, "migrations")
	readable := func(schema, table string) float64 {
		return s.value(t, "pg_schema_migration_table_readable", "schemaname", schema, "table", table)
	}
	if v := readable("inf", "_prisma_migrations"); v != 0 {
		t.Errorf("the table with an infinite start: readable %v, want 0", v)
	}
	for _, tc := range []struct{ schema, table string }{
		{"nulls", "_prisma_migrations"}, {"al", "alembic_version"}, {"lb", "databasechangelog"}, {"gm", "schema_migrations"},
	} {
		if v := readable(tc.schema, tc.table); v != 1 {
			t.Errorf("%s.%s readable %v, want 1", tc.schema, tc.table, v)
		}
	}
	for _, tc := range []struct {
		schema, tool, metric string
		want                 float64
	}{
		{"nulls", toolPrisma, "pg_schema_migrations_applied", 2},
		{"nulls", toolPrisma, "pg_schema_migrations_failed", 1},
		{"al", toolAlembic, "pg_schema_migrations_applied", 1},
		{"lb", toolLiquibase, "pg_schema_migrations_applied", 1},
		{"gm", toolGolangMigrate, "pg_schema_migrations_applied", 1},
	} {
		if v := s.value(t, tc.metric, "schemaname", tc.schema, "tool", tc.tool); v != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.metric, tc.schema, v, tc.want)
		}
	}
	for schema, want := range map[string]string{
		"nulls": "20260101_init", // the row without a name names nothing
		"al":    "ae1027a6acf",   // not ",ae1027a6acf"
		"lb":    "create-orders", // not the FAILED changeset
		"gm":    "20260105",      // NULL sorted first used to win
	} {
		info := s.series("pg_schema_migration_info", "schemaname", schema)
		if len(info) != 1 {
			t.Errorf("%s: info %v, want one version %q", schema, info, want)
			continue
		}
		for k := range info {
			if !strings.HasSuffix(k, ",version="+want) {
				t.Errorf("%s: info %s, want version %q", schema, k, want)
			}
		}
	}
	if v := s.value(t, "pg_schema_migration_last_applied_timestamp_seconds", "schemaname", "lb"); v != float64(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("liquibase last applied %v, want the EXECUTED changeset's time", v)
	}
}
