package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redline-sre/redline/internal/testenv"
)

// The settings postgres_exporter's mixin reads, with values the test set:
// a server default would pass a test that read nothing.
func TestSettings(t *testing.T) {
	t.Parallel()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{Settings: map[string]string{
		"superuser_reserved_connections": "4",
		"autovacuum_vacuum_scale_factor": "0.05",
		"autovacuum_vacuum_threshold":    "123",
		// A provider's raised limit (RDS and others allow up to 2 billion).
		"autovacuum_freeze_max_age":           "1500000000",
		"autovacuum_multixact_freeze_max_age": "400000000",
	}})
	target := newTarget(t, Options{DSN: pg.DSN("postgres")})
	s := scrapeTarget(t, target, 5*time.Second)
	s.requireSuccess(t, "settings")
	for name, want := range map[string]float64{
		"pg_settings_superuser_reserved_connections":      4,
		"pg_settings_autovacuum_vacuum_scale_factor":      0.05,
		"pg_settings_autovacuum_vacuum_threshold":         123,
		"pg_settings_autovacuum_freeze_max_age":           1.5e9,
		"pg_settings_autovacuum_multixact_freeze_max_age": 4e8,
	} {
		if got := s.value(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// reserved_connections exists from PostgreSQL 16 on; before, its series
	// is absent rather than a made-up 0, and the collector still succeeds.
	conn, err := pgx.Connect(context.Background(), pg.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var version int
	if err := conn.QueryRow(context.Background(), "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if has := s.has("pg_settings_reserved_connections"); has != (version >= 160000) {
		t.Errorf("server %d: pg_settings_reserved_connections present = %v", version, has)
	}
}
