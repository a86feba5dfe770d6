package postgres

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redline-sre/redline/internal/testenv"
)

func TestNewTargetRejectsBadInputWithoutEchoingThePassword(t *testing.T) {
	const secret = "hunter2-s3cret"
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"empty", Options{}, "postgres DSN is empty"},
		{"bad port", Options{DSN: "postgres://mon:" + secret + "@db.example:notaport/app"}, "invalid postgres DSN"},
		{"bad url escape", Options{DSN: "postgres://mon:" + secret + "%zz@db.example/app"}, "invalid postgres DSN"},
		{"bad keyword value", Options{DSN: "host=db.example password=" + secret + " sslmode=sometimes"}, "invalid postgres DSN"},
		{"bad connect timeout", Options{DSN: "postgres://mon:" + secret + "@db.example/app?connect_timeout=soon"}, "invalid postgres DSN"},
		// pgx ends the user info at the first '@': the rest of the password
		// would become the host name, shown by every connection error.
		{"unencoded @ in password", Options{DSN: "postgres://mon:ab@" + secret + "@db.example/app"}, "percent-encode it as %40"},
		{"negative knob", Options{DSN: "postgres://db.example/app", TopTables: -1}, "top tables must not be negative"},
		{"empty database name", Options{DSN: "postgres://db.example/app", Databases: []string{""}}, "empty database name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewTarget(tc.opts, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error echoes the password: %q", err)
			}
			t.Log(err)
		})
	}
}

// A server that does not answer: NewTarget does not block, a scrape reports
// pg_up 0 and every collector as failed within its deadline, logs that once,
// and the error text never carries the password.
func TestUnreachableServer(t *testing.T) {
	// A listener that accepts and never speaks: the worst case, a
	// connection that hangs rather than being refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	const secret = "pw-never-shown"
	var logs strings.Builder
	start := time.Now()
	target, err := NewTarget(Options{DSN: fmt.Sprintf("postgres://mon:%s@%s/app?sslmode=disable", secret, l.Addr())}, slogTo(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if d := time.Since(start); d > time.Second { // it must not dial; a second is slack for a loaded machine
		t.Errorf("NewTarget took %s", d)
	}
	s := scrapeTarget(t, target, 500*time.Millisecond)
	if s.took > 2*time.Second {
		t.Errorf("scrape took %s, deadline 500ms", s.took)
	}
	if v := s.value(t, "pg_up"); v != 0 {
		t.Errorf("pg_up = %v", v)
	}
	for _, n := range allCollectors() {
		if v := s.value(t, "redline_collector_success", "collector", n); v != 0 {
			t.Errorf("collector %s success = %v", n, v)
		}
	}
	if logs.Len() == 0 || strings.Contains(logs.String(), secret) {
		t.Errorf("log empty or shows the password:\n%s", logs.String())
	}
	// A down target is one problem: logged once per scrape, not once per
	// collector that could not run.
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d errors logged for one scrape of a down server, want 1:\n%s", n, logs.String())
	}
}

func TestConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{
		MaxConnections: 25,
		Settings:       map[string]string{"superuser_reserved_connections": "5"},
	})
	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	var held []*pgx.Conn
	for range 3 {
		c, err := pgx.Connect(ctx, pg.DSN("app"))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	defer func() {
		for _, c := range held {
			c.Close(ctx)
		}
	}()
	if _, err := held[0].Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}

	// The exporter covers only "postgres", so the sessions in "app" are
	// exactly the test's.
	target := newTarget(t, Options{DSN: pg.DSN("postgres"), Databases: []string{"postgres"}})
	s := scrapeTarget(t, target, 5*time.Second)
	s.requireSuccess(t, "connections")
	if v := s.value(t, "pg_up"); v != 1 {
		t.Errorf("pg_up = %v", v)
	}
	if v := s.value(t, "pg_stat_activity_count", "datname", "app", "state", "idle"); v != 2 {
		t.Errorf("app idle = %v, want 2", v)
	}
	if v := s.value(t, "pg_stat_activity_count", "datname", "app", "state", "idle in transaction"); v != 1 {
		t.Errorf("app idle in transaction = %v, want 1", v)
	}
	// Every state is present, zero when empty.
	if v := s.value(t, "pg_stat_activity_count", "datname", "app", "state", "active"); v != 0 {
		t.Errorf("app active = %v, want 0", v)
	}
	if v := s.value(t, "pg_settings_max_connections"); v != 25 {
		t.Errorf("max_connections = %v", v)
	}
	// 25 slots minus 5 reserved for superusers; the test holds 3 and the
	// exporter 1 to 2 (the scrape's own connections to "postgres").
	used := s.value(t, "pg_connections_used_ratio") * 20
	if used < 4-1e-9 || used > 5+1e-9 || !near(used, float64(int(used+0.5)), 1e-9) {
		t.Errorf("pg_connections_used_ratio × 20 usable = %v, want 4 or 5 backends", used)
	}
}

// The exporter holds one pool per database: redline_postgres_connections
// shows each, and matches what the server sees of the exporter's sessions.
func TestOpenConnectionsPerDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	for _, db := range []string{"app1", "app2", "app3"} {
		if err := pg.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	plantSequences(t, pg, "app1")
	const perDB = 2
	target := newTarget(t, Options{DSN: pg.DSN("postgres"), MaxConnsPerDatabase: perDB})
	for range 2 {
		s := scrapeTarget(t, target, 10*time.Second)
		s.requireSuccess(t, allCollectors()...)
		open := s.series("redline_postgres_connections")
		var total float64
		for _, db := range []string{"postgres", "app1", "app2", "app3"} {
			v := s.value(t, "redline_postgres_connections", "datname", db)
			if v < 1 || v > perDB {
				t.Errorf("%s: %v connections open, want 1 to %d", db, v, perDB)
			}
			total += v
		}
		if len(open) != 4 {
			t.Errorf("pools: %s", fmtSeries(open))
		}
		var seen float64
		queryRow(t, pg, "postgres", "SELECT count(*)::float8 FROM pg_stat_activity WHERE application_name = 'redline_exporter'", &seen)
		if seen != total {
			t.Errorf("server sees %v exporter sessions, the metric says %v: %s", seen, total, fmtSeries(open))
		}
	}
}

func TestClockSkew(t *testing.T) {
	t.Parallel()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	for _, shift := range []time.Duration{0, -5 * time.Second, 90 * time.Second} {
		target := newTarget(t, Options{DSN: pg.DSN("postgres")})
		// Same host, same clock: shifting the exporter's clock is the only
		// way to make a skew the test knows. A clock that runs behind makes
		// the database look ahead.
		target.now = func() time.Time { return time.Now().Add(shift) }
		s := scrapeTarget(t, target, 5*time.Second)
		s.requireSuccess(t, "clock_skew")
		got := s.value(t, "pg_clock_skew_seconds")
		if want := -shift.Seconds(); !near(got, want, 0.25) {
			t.Errorf("shift %s: pg_clock_skew_seconds = %v, want %v ± 0.25", shift, got, want)
		}
	}
}

func TestDeadTuples(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{Autovacuum: false})
	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, pg, "app",
		"CREATE TABLE orders (id int PRIMARY KEY, v int)",
		"INSERT INTO orders SELECT g, 0 FROM generate_series(1, 1000) g",
		"UPDATE orders SET v = 1 WHERE id <= 300",
		"CREATE SCHEMA ledger",
		"CREATE TABLE ledger.entries (id int PRIMARY KEY)",
		"INSERT INTO ledger.entries SELECT g FROM generate_series(1, 500) g",
		"DELETE FROM ledger.entries WHERE id <= 100",
		"CREATE TABLE quiet (id int)",
		"INSERT INTO quiet SELECT g FROM generate_series(1, 50) g",
		"CREATE TABLE empty (id int)",
	)
	// Statistics reach shared memory when the writing session ends; wait
	// until the server shows them.
	waitFor(t, pg, "app", "SELECT sum(n_dead_tup) = 400 FROM pg_stat_user_tables")

	target := newTarget(t, Options{DSN: pg.DSN("postgres"), TopTables: 2})
	s := scrapeTarget(t, target, 5*time.Second)
	s.requireSuccess(t, "dead_tuples")

	want := map[string][2]float64{"public.orders": {300, 1000}, "ledger.entries": {100, 400}}
	if got := s.series("pg_stat_user_tables_n_dead_tup", "datname", "app"); len(got) != 2 {
		t.Errorf("top 2 tables expected, got %s", fmtSeries(got))
	}
	for name, w := range want {
		schema, rel, _ := strings.Cut(name, ".")
		l := []string{"datname", "app", "schemaname", schema, "relname", rel}
		if v := s.value(t, "pg_stat_user_tables_n_dead_tup", l...); v != w[0] {
			t.Errorf("%s n_dead_tup = %v, want %v", name, v, w[0])
		}
		if v := s.value(t, "pg_stat_user_tables_n_live_tup", l...); v != w[1] {
			t.Errorf("%s n_live_tup = %v, want %v", name, v, w[1])
		}
		if v := s.value(t, "pg_table_dead_tuple_ratio", l...); !near(v, w[0]/(w[0]+w[1]), 1e-9) {
			t.Errorf("%s dead ratio = %v", name, v)
		}
	}
	// Autovacuum is off: never vacuumed is absent, never 0.
	if s.has("pg_table_last_autovacuum_age_seconds") {
		t.Errorf("last autovacuum age present for never-vacuumed tables: %s", fmtSeries(s.series("pg_table_last_autovacuum_age_seconds")))
	}
	// The totals cover all tables, also those without per-table series.
	var dead, live float64
	queryRow(t, pg, "app", "SELECT sum(n_dead_tup)::float8, sum(n_live_tup)::float8 FROM pg_stat_user_tables", &dead, &live)
	if v := s.value(t, "pg_database_dead_tuples", "datname", "app"); v != dead || v != 400 {
		t.Errorf("pg_database_dead_tuples = %v, pg_stat_user_tables says %v", v, dead)
	}
	if v := s.value(t, "pg_database_live_tuples", "datname", "app"); v != live || v != 1450 {
		t.Errorf("pg_database_live_tuples = %v, pg_stat_user_tables says %v", v, live)
	}
	// A database without user tables reports zero totals.
	if v := s.value(t, "pg_database_dead_tuples", "datname", "postgres"); v != 0 {
		t.Errorf("postgres dead tuples = %v", v)
	}
}

// queryRow scans one row of a superuser query in db.
func queryRow(t testing.TB, pg *testenv.Postgres, db, sql string, dest ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// waitFor polls a boolean query until it is true (10 s at most).
func waitFor(t testing.TB, pg *testenv.Postgres, db, sql string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok *bool
		queryRow(t, pg, db, sql, &ok)
		if ok != nil && *ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still false after 10s: %s", sql)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLastAutovacuumAge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{
		Autovacuum: true,
		Settings: map[string]string{
			"autovacuum_naptime":             "1s",
			"autovacuum_vacuum_threshold":    "10",
			"autovacuum_vacuum_scale_factor": "0",
		},
	})
	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, pg, "app",
		"CREATE TABLE churned (id int)",
		"INSERT INTO churned SELECT generate_series(1, 100)",
		"DELETE FROM churned WHERE id <= 50",
		"CREATE TABLE calm (id int)",
		"INSERT INTO calm SELECT generate_series(1, 5)",
	)
	waitFor(t, pg, "app", "SELECT last_autovacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'churned'")

	target := newTarget(t, Options{DSN: pg.DSN("postgres")})
	s := scrapeTarget(t, target, 5*time.Second)
	s.requireSuccess(t, "dead_tuples")
	age := s.value(t, "pg_table_last_autovacuum_age_seconds", "datname", "app", "relname", "churned")
	if age < 0 || age > 30 {
		t.Errorf("churned: last autovacuum %v seconds ago", age)
	}
	if s.has("pg_table_last_autovacuum_age_seconds", "relname", "calm") {
		t.Error("calm was never autovacuumed but has an age")
	}
	if !s.has("pg_stat_user_tables_n_dead_tup", "relname", "calm") {
		t.Error("calm missing from the top tables")
	}
}
