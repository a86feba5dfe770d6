package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redline-sre/redline/internal/testenv"
)

// The server ends the exporter's sessions (pg_terminate_backend here; a
// failover, a restart or idle_session_timeout alike). The next scrape must
// still read pg_up 1 and every collector as succeeded: a query that fails
// because its connection is gone is retried once on a fresh one. It used to
// fail one scrape per dead pooled connection.
//
// pgxpool pings a connection idle for more than a second before handing it
// out, which hides dead connections from scrapes further apart; the second
// scrape therefore follows the termination at once, as two Prometheus
// servers or a /probe beside /metrics do.
func TestScrapeAfterServerEndedTheSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	target := newTarget(t, Options{DSN: pg.DSN("postgres")})
	for range 2 { // fill the pools of both databases
		s := scrapeTarget(t, target, 10*time.Second)
		s.requireSuccess(t, allCollectors()...)
	}
	for round := 1; round <= 3; round++ {
		// The exporter's connections all sit idle between scrapes, as in
		// production; ending them leaves each pool with dead ones only.
		mustExec(t, pg, "postgres", `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'redline_exporter'`)
		waitGone(t, pg)
		s := scrapeTarget(t, target, 10*time.Second)
		if v := s.value(t, "pg_up"); v != 1 {
			t.Errorf("round %d: pg_up = %v after the server ended the exporter's sessions, want 1", round, v)
		}
		for _, n := range allCollectors() {
			if v := s.value(t, "redline_collector_success", "collector", n); v != 1 {
				t.Errorf("round %d: collector %s success = %v, want 1", round, n, v)
			}
		}
	}
}

// waitGone waits until the server has no session of the exporter left.
func waitGone(t *testing.T, pg *testenv.Postgres) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		conn, err := pgx.Connect(context.Background(), pg.DSN("postgres"))
		if err == nil {
			err = conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'redline_exporter'`).Scan(&n)
			conn.Close(context.Background())
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions of the exporter still there 10s after pg_terminate_backend", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
