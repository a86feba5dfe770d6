package postgres

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/internal/testenv"
)

// Each tool's history table, created with the tool's own DDL (from its
// source, see migrationtools.go), so recognition is tested against what
// the tools really make.
var (
	prismaDDL = `CREATE TABLE %s._prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`
	golangMigrateDDL = `CREATE TABLE %s.schema_migrations (version bigint not null primary key, dirty boolean not null)`
	railsDDL         = `CREATE TABLE %s."schema_migrations" ("version" character varying NOT NULL PRIMARY KEY)`
	flywayDDL        = []string{`CREATE TABLE %s."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
)`,
		`ALTER TABLE %s."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank")`,
		`CREATE INDEX "flyway_schema_history_s_idx" ON %s."flyway_schema_history" ("success")`,
	}
	liquibaseDDL = []string{`CREATE TABLE %s.databasechangelog (ID VARCHAR(255) NOT NULL, AUTHOR VARCHAR(255) NOT NULL,
    FILENAME VARCHAR(255) NOT NULL, DATEEXECUTED TIMESTAMP WITHOUT TIME ZONE NOT NULL, ORDEREXECUTED INTEGER NOT NULL,
    EXECTYPE VARCHAR(10) NOT NULL, MD5SUM VARCHAR(35), DESCRIPTION VARCHAR(255), COMMENTS VARCHAR(255),
    TAG VARCHAR(255), LIQUIBASE VARCHAR(20), CONTEXTS VARCHAR(255), LABELS VARCHAR(255), DEPLOYMENT_ID VARCHAR(10))`,
		`CREATE TABLE %s.databasechangeloglock (ID INTEGER NOT NULL, LOCKED BOOLEAN NOT NULL,
    LOCKGRANTED TIMESTAMP WITHOUT TIME ZONE, LOCKEDBY VARCHAR(255), CONSTRAINT databasechangeloglock_pkey PRIMARY KEY (ID))`,
	}
	alembicDDL = `CREATE TABLE %s.alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))`
)

func inSchema(schema string, ddl ...string) []string {
	out := make([]string, len(ddl))
	for i, d := range ddl {
		out[i] = strings.ReplaceAll(d, "%s", schema)
	}
	return out
}

// plantMigrations creates, in db, one schema per tool with a history that
// has every state the collector tells apart, and look-alike tables that it
// must not read.
func plantMigrations(t testing.TB, pg *testenv.Postgres, db string) {
	t.Helper()
	var sql []string
	add := func(s ...string) { sql = append(sql, s...) }
	add("CREATE SCHEMA prisma", "CREATE SCHEMA gm", "CREATE SCHEMA rails", "CREATE SCHEMA fw",
		"CREATE SCHEMA lb", "CREATE SCHEMA al", "CREATE SCHEMA fake")
	add(inSchema("prisma", prismaDDL)...)
	add(`INSERT INTO prisma._prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES
  ('a', 'x', '2026-01-01 10:00:01+00', '20260101100000_init', '2026-01-01 10:00:00+00', 1),
  ('b', 'x', '2026-01-02 10:00:01+00', '20260102100000_orders', '2026-01-02 10:00:00+00', 1),
  ('c', 'x', NULL, '20260103100000_bad', '2026-01-03 10:00:00+00', 0)`,
		// Rolled back with `migrate resolve --rolled-back`: neither applied
		// nor failed.
		`INSERT INTO prisma._prisma_migrations (id, checksum, migration_name, logs, rolled_back_at, started_at)
  VALUES ('d', 'x', '20251231100000_old', 'ERROR: secret detail', '2026-01-01 09:00:00+00', '2026-01-01 08:00:00+00')`)
	add(inSchema("gm", golangMigrateDDL)...)
	add("INSERT INTO gm.schema_migrations VALUES (20260105, true)")
	add(inSchema("rails", railsDDL)...)
	add("INSERT INTO rails.schema_migrations VALUES ('20260101000000'), ('20260102000000'), ('20260103000000')")
	add(inSchema("fw", flywayDDL...)...)
	add(`INSERT INTO fw.flyway_schema_history VALUES
  (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', '2026-01-01 10:00:00', 5, true),
  (2, '2', 'orders', 'SQL', 'V2__orders.sql', 1, 'app', '2026-01-02 10:00:00', 5, true),
  (3, NULL, 'views', 'SQL', 'R__views.sql', 1, 'app', '2026-01-02 11:00:00', 5, true),
  (4, '3', 'index', 'SQL', 'V3__index.sql', 1, 'app', '2026-01-03 10:00:00', 5, false)`)
	add(inSchema("lb", liquibaseDDL...)...)
	add(`INSERT INTO lb.databasechangelog (id, author, filename, dateexecuted, orderexecuted, exectype) VALUES
  ('create-orders', 'dev', 'db.xml', '2026-01-01 10:00:00', 1, 'EXECUTED'),
  ('add-index', 'dev', 'db.xml', '2026-01-02 10:00:00', 2, 'MARK_RAN')`,
		"INSERT INTO lb.databasechangeloglock VALUES (1, false, NULL, NULL)")
	add(inSchema("al", alembicDDL)...)
	add("INSERT INTO al.alembic_version VALUES ('ae1027a6acf')")
	// Same names, other programs' tables.
	add("CREATE TABLE fake._prisma_migrations (id int PRIMARY KEY, name text)",
		"CREATE TABLE fake.schema_migrations (id int PRIMARY KEY, applied date)",
		"CREATE TABLE fake.alembic_version (version_num int)")
	mustExec(t, pg, db, sql...)
}

// session opens a connection to db that stays open until the test ends.
func session(t *testing.T, pg *testenv.Postgres, db string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	plantMigrations(t, pg, "app")
	target := newTarget(t, Options{DSN: pg.DSN("postgres"), Databases: []string{"app"}})

	type want struct {
		applied, failed, inProgress, last float64 // -1: absent
		version                           string
	}
	check := func(t *testing.T, s *scraped, schema, tool string, w want) {
		t.Helper()
		lbl := []string{"datname", "app", "schemaname", schema, "tool", tool}
		for _, m := range []struct {
			name string
			want float64
		}{
			{"pg_schema_migrations_applied", w.applied},
			{"pg_schema_migrations_failed", w.failed},
			{"pg_schema_migrations_in_progress", w.inProgress},
			{"pg_schema_migration_last_applied_timestamp_seconds", w.last},
		} {
			got := s.series(m.name, lbl...)
			switch {
			case m.want < 0 && len(got) != 0:
				t.Errorf("%s %s/%s: %v, want absent", m.name, schema, tool, got)
			case m.want >= 0 && (len(got) != 1 || s.value(t, m.name, lbl...) != m.want):
				t.Errorf("%s %s/%s: %v, want %v", m.name, schema, tool, got, m.want)
			}
		}
		info := s.series("pg_schema_migration_info", lbl...)
		key := "datname=app,schemaname=" + schema + ",tool=" + tool + ",version=" + w.version
		if len(info) != 1 || info[key] != 1 {
			t.Errorf("pg_schema_migration_info %s/%s: %v, want version %q", schema, tool, info, w.version)
		}
	}
	unix := func(s string) float64 {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return float64(ts.Unix())
	}

	t.Run("idle", func(t *testing.T) {
		s := scrapeTarget(t, target, 10*time.Second)
		s.requireSuccess(t, "migrations")
		// The test server runs in UTC, so TIMESTAMP columns read as UTC.
		check(t, s, "prisma", toolPrisma, want{2, 1, 0, unix("2026-01-02T10:00:01Z"), "20260102100000_orders"})
		check(t, s, "gm", toolGolangMigrate, want{0, 1, 0, -1, "20260105"})
		check(t, s, "rails", toolRails, want{3, -1, 0, -1, "20260103000000"})
		check(t, s, "fw", toolFlyway, want{3, 1, 0, unix("2026-01-02T11:00:00Z"), "2"})
		check(t, s, "lb", toolLiquibase, want{2, -1, 0, unix("2026-01-02T10:00:00Z"), "add-index"})
		check(t, s, "al", toolAlembic, want{1, -1, -1, -1, "ae1027a6acf"})
		// Prisma, golang-migrate and Flyway have one failure each.
		if v := s.value(t, "pg_database_schema_migrations_failed", "datname", "app"); v != 3 {
			t.Errorf("pg_database_schema_migrations_failed = %v, want 3", v)
		}

		for _, tc := range []struct {
			schema, table string
			want          float64
		}{
			{"prisma", "_prisma_migrations", 1}, {"gm", "schema_migrations", 1}, {"rails", "schema_migrations", 1},
			{"fw", "flyway_schema_history", 1}, {"lb", "databasechangelog", 1}, {"al", "alembic_version", 1},
			{"fake", "_prisma_migrations", 0}, {"fake", "schema_migrations", 0}, {"fake", "alembic_version", 0},
		} {
			lbl := []string{"datname", "app", "schemaname", tc.schema, "table", tc.table}
			if v := s.value(t, "pg_schema_migration_table_recognized", lbl...); v != tc.want {
				t.Errorf("recognized %s.%s = %v, want %v", tc.schema, tc.table, v, tc.want)
			}
			if tc.want == 1 && s.value(t, "pg_schema_migration_table_readable", lbl...) != 1 {
				t.Errorf("%s.%s not readable", tc.schema, tc.table)
			}
		}
		if s.has("pg_schema_migrations_applied", "schemaname", "fake") {
			t.Error("an unrecognised table has tool series")
		}
		// The Prisma logs column may hold data; it is never read.
		for name, mf := range s.families {
			if strings.Contains(mf.String(), "secret detail") {
				t.Errorf("%s shows Prisma's logs text", name)
			}
		}
	})

	t.Run("running", func(t *testing.T) {
		// Each tool's run holds its advisory lock; Prisma's also has
		// inserted the row of the migration it runs now.
		prisma := session(t, pg, "app")
		if _, err := prisma.Exec(ctx, "SELECT pg_advisory_lock(72707369)"); err != nil {
			t.Fatal(err)
		}
		if _, err := prisma.Exec(ctx, `INSERT INTO prisma._prisma_migrations (id, checksum, migration_name, started_at)
			VALUES ('e', 'x', '20260104100000_next', clock_timestamp())`); err != nil {
			t.Fatal(err)
		}
		locks := map[string][]int64{
			"gm":    golangMigrateLockKeys("app", migrationTable{schema: "gm", name: "schema_migrations"})[:1],
			"fw":    flywayLockKeys("app", migrationTable{schema: "fw", name: "flyway_schema_history"}),
			"rails": migrationTools[2].lockKeys("app", migrationTable{}),
		}
		for schema, keys := range locks {
			if _, err := session(t, pg, "app").Exec(ctx, "SELECT pg_advisory_lock($1)", keys[0]); err != nil {
				t.Fatalf("%s: %v", schema, err)
			}
		}
		mustExec(t, pg, "app", "UPDATE lb.databasechangeloglock SET locked = true, lockgranted = now(), lockedby = 'ci'")
		t.Cleanup(func() { mustExec(t, pg, "app", "UPDATE lb.databasechangeloglock SET locked = false") })

		s := scrapeTarget(t, target, 10*time.Second)
		s.requireSuccess(t, "migrations")
		// The row that failed two days ago is older than the lock holder's
		// session: still failed. The new one is the run's own.
		check(t, s, "prisma", toolPrisma, want{2, 1, 1, unix("2026-01-02T10:00:01Z"), "20260102100000_orders"})
		check(t, s, "gm", toolGolangMigrate, want{0, 0, 1, -1, "20260105"})
		check(t, s, "rails", toolRails, want{3, -1, 1, -1, "20260103000000"})
		// Flyway's success = false row stays a failure while a new run holds
		// the lock: Flyway writes it only after the script ended.
		check(t, s, "fw", toolFlyway, want{3, 1, 1, unix("2026-01-02T11:00:00Z"), "2"})
		check(t, s, "lb", toolLiquibase, want{2, -1, 1, unix("2026-01-02T10:00:00Z"), "add-index"})
		if v := s.value(t, "pg_database_schema_migrations_failed", "datname", "app"); v != 2 {
			t.Errorf("pg_database_schema_migrations_failed = %v, want 2 (golang-migrate's dirty version is the run's)", v)
		}
	})
}

// A history table that another session locks or drops, one database per
// case on one server.
func TestMigrationTableFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	for _, db := range []string{"locked", "late", "dropped"} {
		if err := pg.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
	}

	// A migration that holds ACCESS EXCLUSIVE on its history table (or
	// queues for it) makes the table unreadable for this scrape: a fast,
	// labelled 0, never a hung scrape or a failed collector.
	t.Run("locked", func(t *testing.T) {
		mustExec(t, pg, "locked", append(inSchema("public", prismaDDL, alembicDDL),
			"INSERT INTO alembic_version VALUES ('abc')")...)
		target := newTarget(t, Options{DSN: pg.DSN("postgres"), Databases: []string{"locked"}, LockTimeout: 200 * time.Millisecond})
		// Discovery first, so the table is known before the lock appears.
		first := scrapeTarget(t, target, 10*time.Second)
		first.requireSuccess(t, "migrations")
		if v := first.value(t, "pg_database_schema_migrations_failed", "datname", "locked"); v != 0 {
			t.Errorf("pg_database_schema_migrations_failed without failures = %v, want 0", v)
		}

		holdLock(t, pg, "locked", "LOCK TABLE _prisma_migrations IN ACCESS EXCLUSIVE MODE")
		// pg_locks shows the lock, so the read is skipped rather than
		// waited for.
		db, err := target.database("locked")
		if err != nil {
			t.Fatal(err)
		}
		tables, err := db.migrations.current(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var oids []uint32
		for _, tb := range tables {
			oids = append(oids, tb.oid)
		}
		locks, err := readMigrationLocks(ctx, db, nil, oids)
		if err != nil || len(locks.blocked) != 1 || !locks.blocked[tables[0].oid] || tables[0].name != "_prisma_migrations" {
			t.Errorf("blocked tables %v of %+v, %v; want the Prisma table", locks.blocked, tables, err)
		}
		const deadline = 5 * time.Second
		s := scrapeTarget(t, target, deadline)
		if s.took > deadline {
			t.Errorf("scrape took %s, deadline %s", s.took, deadline)
		}
		s.requireSuccess(t, "migrations")
		lbl := []string{"datname", "locked", "schemaname", "public", "table", "_prisma_migrations"}
		if v := s.value(t, "pg_schema_migration_table_readable", lbl...); v != 0 {
			t.Errorf("locked table readable = %v, want 0", v)
		}
		if s.has("pg_schema_migrations_applied", "tool", toolPrisma) {
			t.Error("the locked table has tool series")
		}
		// The locked table may hold a failure: the total is not known.
		if s.has("pg_database_schema_migrations_failed", "datname", "locked") {
			t.Error("pg_database_schema_migrations_failed is reported while a history table is unreadable")
		}
		if v := s.value(t, "pg_schema_migrations_applied", "tool", toolAlembic); v != 1 {
			t.Errorf("the other table's applied = %v, want 1", v)
		}
	})

	// The lock appears between the pg_locks check and the read: the read
	// waits lock_timeout at most and fails as a statement, which the
	// collector reports as unreadable.
	t.Run("late", func(t *testing.T) {
		mustExec(t, pg, "late", inSchema("public", prismaDDL)...)
		target := newTarget(t, Options{DSN: pg.DSN("late"), LockTimeout: 100 * time.Millisecond})
		db, err := target.database("late")
		if err != nil {
			t.Fatal(err)
		}
		tables, err := db.migrations.current(ctx, db)
		if err != nil || len(tables) != 1 {
			t.Fatalf("tables %v, %v", tables, err)
		}
		holdLock(t, pg, "late", "LOCK TABLE _prisma_migrations IN ACCESS EXCLUSIVE MODE")
		_, err = readMigrationTable(ctx, db, recognisedTable{migrationTable: tables[0], tool: recognise(tables[0])})
		if err == nil || !statementFailed(err) {
			t.Fatalf("read of a locked table: %v, want a lock timeout", err)
		}
	})

	t.Run("dropped", func(t *testing.T) {
		mustExec(t, pg, "dropped", inSchema("public", alembicDDL)...)
		target := newTarget(t, Options{DSN: pg.DSN("postgres"), Databases: []string{"dropped"}})
		if s := scrapeTarget(t, target, 10*time.Second); !s.has("pg_schema_migrations_applied", "tool", toolAlembic) {
			t.Fatal("alembic table not found")
		}
		mustExec(t, pg, "dropped", "DROP TABLE alembic_version")
		s := scrapeTarget(t, target, 10*time.Second)
		s.requireSuccess(t, "migrations")
		if v := s.value(t, "pg_schema_migration_table_readable", "table", "alembic_version"); v != 0 {
			t.Errorf("dropped table readable = %v", v)
		}
		// The failed read cleared the cache: the next scrape does not list it.
		s = scrapeTarget(t, target, 10*time.Second)
		if s.has("pg_schema_migration_table_recognized", "table", "alembic_version") {
			t.Error("the dropped table is still listed")
		}
		// No migration table: no failure, read as 0 rather than nothing.
		if v := s.value(t, "pg_database_schema_migrations_failed", "datname", "dropped"); v != 0 {
			t.Errorf("pg_database_schema_migrations_failed without a migration table = %v, want 0", v)
		}
	})
}

// The lock keys are the tools' own: golang-migrate's from its published
// test values, Flyway's from Java's String.hashCode.
func TestMigrationLockKeys(t *testing.T) {
	gm := func(parts ...string) int64 {
		t.Helper()
		keys := golangMigrateLockKeys(parts[0], migrationTable{schema: "schema_name_1", name: "schema_migrations"})
		return keys[len(keys)-len(parts)]
	}
	if got := gm("database_name"); got != 1764327054 {
		t.Errorf("golang-migrate key of database_name = %d", got)
	}
	if got := gm("database_name", "schema_name_1"); got != 3244152297 {
		t.Errorf("golang-migrate key of database_name, schema_name_1 = %d", got)
	}
	for s, want := range map[string]int32{"hello": 99162322, "polygenelubricants": -2147483648, "": 0, "\U0001F600": 1772899} {
		if got := javaStringHash(s); got != want {
			t.Errorf("javaStringHash(%q) = %d, want %d", s, got, want)
		}
	}
	if got := versionLabel(strings.Repeat("é", 100)); len(got) > maxVersionLabel+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("versionLabel did not bound: %d bytes", len(got))
	}
	if got := strconv.Itoa(len(migrationTableNames())); got != "6" {
		t.Errorf("table names: %s, want 6", got)
	}
}

// BenchmarkMigrations measures the collector on one database that holds
// every tool's table (2,000 Prisma and 2,000 Flyway rows) among 2,000 other
// tables: warm, with the table list cached, and cold, when the list is
// reloaded from the catalog.
//
//	go test -run '^$' -bench BenchmarkMigrations -benchtime 200x ./exporter/postgres/
func BenchmarkMigrations(b *testing.B) {
	ctx := context.Background()
	pg := testenv.NewPostgres(b, testenv.PostgresOptions{})
	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		b.Fatal(err)
	}
	plantMigrations(b, pg, "app")
	mustExec(b, pg, "app",
		`INSERT INTO prisma._prisma_migrations (id, checksum, finished_at, migration_name, started_at)
		 SELECT 'g' || g, 'x', now(), '2025' || lpad(g::text, 10, '0') || '_m', now() FROM generate_series(1, 2000) g`,
		`INSERT INTO fw.flyway_schema_history SELECT 100 + g, (100 + g)::text, 'm', 'SQL', 'V.sql', 1, 'app', now(), 1, true
		 FROM generate_series(1, 2000) g`,
		`DO $$ BEGIN FOR i IN 1..2000 LOOP EXECUTE format('CREATE TABLE other_%s (id int)', i); END LOOP; END $$`)
	target, err := NewTarget(Options{DSN: pg.DSN("app")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer target.Close()
	db, err := target.database("app")
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, cold bool) {
		ch := make(chan prometheus.Metric, 1000)
		for b.Loop() {
			if cold {
				db.migrations.invalidate()
			}
			if err := collectDatabaseMigrations(ctx, db, ch); err != nil {
				b.Fatal(err)
			}
			for len(ch) > 0 {
				<-ch
			}
		}
	}
	b.Run("warm", func(b *testing.B) { run(b, false) })
	b.Run("cold", func(b *testing.B) { run(b, true) })
}
