package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

// TestCheckpoints reads the checkpointer's counters on whatever server
// version testenv starts (make compat runs it on 13–18): a CHECKPOINT after
// writes moves the requested count and the buffers written, the series each
// version has are there and no others, and a plain role reads them.
func TestCheckpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	major := pg.Version / 10000
	if err := pg.CreateRole(ctx, "plain", "plain-pw-1234"); err != nil {
		t.Fatal(err)
	}
	target := newTarget(t, Options{DSN: pg.DSNFor("plain", "plain-pw-1234", "postgres")})

	before := scrapeTarget(t, target, 5*time.Second)
	before.requireSuccess(t, "checkpoints")
	mustExec(t, pg, "postgres",
		"CREATE TABLE ckpt AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 20000) g",
		"CHECKPOINT")
	// The checkpointer publishes its counters when the checkpoint ends,
	// and the statistics snapshot may lag it a little.
	var after *scraped
	deadline := time.Now().Add(10 * time.Second)
	for {
		after = scrapeTarget(t, target, 5*time.Second)
		after.requireSuccess(t, "checkpoints")
		if after.value(t, "pg_stat_checkpointer_num_requested_total") > before.value(t, "pg_stat_checkpointer_num_requested_total") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, name := range []string{"pg_stat_checkpointer_num_requested_total", "pg_stat_checkpointer_buffers_written_total"} {
		if b, a := before.value(t, name), after.value(t, name); a <= b {
			t.Errorf("PostgreSQL %d: %s %v -> %v after writes and a CHECKPOINT, want it to grow", major, name, b, a)
		}
	}
	// buffers_alloc is left unchecked: the background writer publishes it
	// on its own schedule (seen 0 on 16 right after the writes).

	everywhere := []string{
		"pg_stat_checkpointer_num_timed_total", "pg_stat_checkpointer_num_requested_total",
		"pg_stat_checkpointer_write_time_total", "pg_stat_checkpointer_sync_time_total",
		"pg_stat_checkpointer_buffers_written_total",
		"pg_stat_bgwriter_buffers_clean_total", "pg_stat_bgwriter_maxwritten_clean_total",
		"pg_stat_bgwriter_buffers_alloc_total", "pg_stat_bgwriter_buffers_backend_total",
		"pg_stat_bgwriter_buffers_backend_fsync_total",
	}
	for _, name := range everywhere {
		if !after.has(name) {
			t.Errorf("PostgreSQL %d: %s missing", major, name)
		}
	}
	versioned := map[string]bool{
		"pg_stat_checkpointer_restartpoints_timed_total": major >= 17,
		"pg_stat_checkpointer_restartpoints_req_total":   major >= 17,
		"pg_stat_checkpointer_restartpoints_done_total":  major >= 17,
		"pg_stat_checkpointer_num_done_total":            major >= 18,
		"pg_stat_bgwriter_checkpoints_timed_total":       major < 17,
		"pg_stat_bgwriter_checkpoints_req_total":         major < 17,
		"pg_stat_bgwriter_checkpoint_write_time_total":   major < 17,
		"pg_stat_bgwriter_checkpoint_sync_time_total":    major < 17,
		"pg_stat_bgwriter_buffers_checkpoint_total":      major < 17,
	}
	for name, want := range versioned {
		if got := after.has(name); got != want {
			t.Errorf("PostgreSQL %d: %s present = %v, want %v", major, name, got, want)
		}
	}
	if major < 17 {
		// The drop-in names carry the same counters.
		if a, b := after.value(t, "pg_stat_bgwriter_checkpoints_req_total"), after.value(t, "pg_stat_checkpointer_num_requested_total"); a != b {
			t.Errorf("checkpoints_req %v != num_requested %v", a, b)
		}
	}

	// A view the role may not read fails the collector, not the scrape.
	mustExec(t, pg, "postgres", "REVOKE SELECT ON pg_stat_bgwriter FROM PUBLIC")
	failed := scrapeTarget(t, target, 5*time.Second)
	if v := failed.value(t, "redline_collector_success", "collector", "checkpoints"); v != 0 {
		t.Errorf("checkpoints without access to pg_stat_bgwriter: success = %v, want 0", v)
	}
	failed.requireSuccess(t, "wraparound")
}

func TestParseMajor(t *testing.T) {
	for v, want := range map[string]int{
		"13.23": 13, "17.2 (Debian 17.2-1.pgdg120+1)": 17, "18beta1": 18, "19devel": 19, "18.4": 18,
	} {
		if got, ok := parseMajor(v); !ok || got != want {
			t.Errorf("parseMajor(%q) = %d, %v; want %d", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "9.6.24", "EnterpriseDB 9"} {
		if got, ok := parseMajor(v); ok {
			t.Errorf("parseMajor(%q) = %d, want not a version", v, got)
		}
	}
}
