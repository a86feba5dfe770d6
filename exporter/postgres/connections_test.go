package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redline-sre/redline/internal/testenv"
)

// A monitoring role without pg_monitor sees other roles' sessions in
// pg_stat_activity with backend_type (and state) NULL. With the server
// full of another role's sessions the ratio must still read 1: it used to
// count only the sessions the role may see, and read near 0 while every
// collector reported success.
func TestConnectionsUsedRatioWithoutPgMonitor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const maxConns, reserved = 12, 2 // 10 slots for ordinary roles
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{
		MaxConnections: maxConns,
		Settings:       map[string]string{"superuser_reserved_connections": "2"},
	})
	if err := pg.CreateRole(ctx, "plainmon", "plainmon-pw-1234"); err != nil {
		t.Fatal(err)
	}
	if err := pg.CreateRole(ctx, "app", "app-pw-1234"); err != nil {
		t.Fatal(err)
	}
	// One connection, opened by a first scrape before the server fills:
	// once it is full the exporter could not connect either.
	target := newTarget(t, Options{DSN: pg.DSNFor("plainmon", "plainmon-pw-1234", "postgres"), Databases: []string{"postgres"}, MaxConnsPerDatabase: 1})
	// The hidden rows also include the server's own processes
	// (checkpointer, WAL writer, the launchers): they hold no client slot
	// and must not count. The set-up's own sessions (creating the roles)
	// hold one until their backend has exited, which on a loaded machine
	// can take a moment after the client closed them.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		first := scrapeTarget(t, target, 10*time.Second)
		first.requireSuccess(t, "connections")
		v := first.value(t, "pg_connections_used_ratio")
		if near(v, 0.1, 1e-9) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pg_connections_used_ratio = %v with only the exporter's session, want 0.1", v)
		}
	}

	// Fill every slot left to ordinary roles with the other role's sessions.
	var held []*pgx.Conn
	defer func() {
		for _, c := range held {
			c.Close(ctx)
		}
	}()
	for len(held) < maxConns {
		c, err := pgx.Connect(ctx, pg.DSNFor("app", "app-pw-1234", "postgres"))
		if err != nil {
			break // remaining connection slots are reserved
		}
		held = append(held, c)
	}
	if want := maxConns - reserved - 1; len(held) != want {
		t.Fatalf("opened %d sessions of the other role, want %d (one slot is the exporter's)", len(held), want)
	}

	s := scrapeTarget(t, target, 10*time.Second)
	s.requireSuccess(t, "connections")
	if v := s.value(t, "pg_connections_used_ratio"); !near(v, 1, 1e-9) {
		t.Errorf("pg_connections_used_ratio = %v with every ordinary slot taken, want 1", v)
	}
}
