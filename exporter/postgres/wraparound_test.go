package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redline-sre/redline/internal/testenv"
)

// TestWraparound: the ages are the server's own age(datfrozenxid) and
// mxid_age(datminmxid) per database, they grow with transactions and drop
// after VACUUM FREEZE, the ratio is against 2^31, and postgres_exporter's
// names carry the same values for the databases that accept connections.
func TestWraparound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A provider's raised limit: the freeze ratios divide by it.
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{Settings: map[string]string{
		"autovacuum_freeze_max_age": "1500000000", "autovacuum_multixact_freeze_max_age": "400000000",
	}})
	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := pg.CreateRole(ctx, "plain", "plain-pw-1234"); err != nil {
		t.Fatal(err)
	}
	target := newTarget(t, Options{DSN: pg.DSNFor("plain", "plain-pw-1234", "postgres")})

	// Each txid_current() in its own transaction uses one transaction ID.
	const burn = 300
	stmts := []string{"CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1)"}
	for range burn {
		stmts = append(stmts, "SELECT txid_current()")
	}
	mustExec(t, pg, "app", stmts...)
	// Two sessions sharing a row lock make a multixact.
	a, err := pgx.Connect(ctx, pg.DSN("app"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	b, err := pgx.Connect(ctx, pg.DSN("app"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	for _, c := range []*pgx.Conn{a, b} {
		if _, err := c.Exec(ctx, "BEGIN; SELECT * FROM t FOR SHARE"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*pgx.Conn{a, b} {
		if _, err := c.Exec(ctx, "COMMIT"); err != nil {
			t.Fatal(err)
		}
	}

	s := scrapeTarget(t, target, 5*time.Second)
	s.requireSuccess(t, "wraparound")
	want := serverAges(t, pg)
	if _, ok := want["template0"]; !ok {
		t.Fatal("pg_database has no template0")
	}
	for datname, ages := range want {
		if got := s.value(t, "pg_database_xid_age", "datname", datname); got != ages[0] {
			t.Errorf("%s: pg_database_xid_age = %v, server says %v", datname, got, ages[0])
		}
		if got := s.value(t, "pg_database_mxid_age", "datname", datname); got != ages[1] {
			t.Errorf("%s: pg_database_mxid_age = %v, server says %v", datname, got, ages[1])
		}
		if got := s.value(t, "pg_database_xid_wraparound_ratio", "datname", datname); got != ages[0]/(1<<31) {
			t.Errorf("%s: pg_database_xid_wraparound_ratio = %v, want %v", datname, got, ages[0]/(1<<31))
		}
		if got := s.value(t, "pg_database_xid_freeze_max_age_ratio", "datname", datname); got != ages[0]/1.5e9 {
			t.Errorf("%s: pg_database_xid_freeze_max_age_ratio = %v, want %v", datname, got, ages[0]/1.5e9)
		}
		if got := s.value(t, "pg_database_mxid_freeze_max_age_ratio", "datname", datname); got != ages[1]/4e8 {
			t.Errorf("%s: pg_database_mxid_freeze_max_age_ratio = %v, want %v", datname, got, ages[1]/4e8)
		}
		// template0 refuses connections: postgres_exporter leaves it out.
		if has := s.has("pg_database_wraparound_age_datfrozenxid_seconds", "datname", datname); has != (datname != "template0") {
			t.Errorf("%s: drop-in age_datfrozenxid present = %v", datname, has)
		} else if has && s.value(t, "pg_database_wraparound_age_datfrozenxid_seconds", "datname", datname) != ages[0] {
			t.Errorf("%s: drop-in age_datfrozenxid differs from pg_database_xid_age", datname)
		}
		if has := s.has("pg_database_wraparound_age_datminmxid_seconds", "datname", datname); has != (datname != "template0") {
			t.Errorf("%s: drop-in age_datminmxid present = %v", datname, has)
		}
	}
	if age := want["app"][0]; age < burn {
		t.Errorf("app: xid age %v after %d transactions", age, burn)
	}
	if age := want["app"][1]; age < 1 {
		t.Errorf("app: mxid age %v after a shared row lock", age)
	}

	mustExec(t, pg, "app", "VACUUM FREEZE")
	frozen := scrapeTarget(t, target, 5*time.Second)
	if got := frozen.value(t, "pg_database_xid_age", "datname", "app"); got >= want["app"][0] {
		t.Errorf("app: xid age %v after VACUUM FREEZE, was %v", got, want["app"][0])
	}
}

// serverAges asks the server for each database's xid and mxid ages.
func serverAges(t *testing.T, pg *testenv.Postgres) map[string][2]float64 {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT datname, age(datfrozenxid)::float8, mxid_age(datminmxid)::float8 FROM pg_database")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]float64{}
	var name string
	var x, m float64
	if _, err := pgx.ForEachRow(rows, []any{&name, &x, &m}, func() error {
		out[name] = [2]float64{x, m}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
