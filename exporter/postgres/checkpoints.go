package postgres

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// The checkpointer's and background writer's counters. PostgreSQL 17 moved
// the checkpoint columns of pg_stat_bgwriter into pg_stat_checkpointer under
// new names (and dropped buffers_backend, which pg_stat_io has since 16);
// 18 added num_done. The collector sends postgres_exporter's
// pg_stat_checkpointer_* names on every version, so one alert or panel
// reads 13 and 18 alike, and on 13–16 also the pg_stat_bgwriter_* checkpoint
// names postgres_exporter sends there, as a drop-in. Times are milliseconds,
// as the server and postgres_exporter count them.
var (
	ckptNumTimedDesc      = ckptDesc("pg_stat_checkpointer_num_timed_total", "Checkpoints started because checkpoint_timeout elapsed (checkpoints_timed before PostgreSQL 17).")
	ckptNumRequestedDesc  = ckptDesc("pg_stat_checkpointer_num_requested_total", "Checkpoints requested: by max_wal_size filling up, a CHECKPOINT, a CREATE DATABASE or a base backup (checkpoints_req before PostgreSQL 17). A migration that rewrites a big table makes these climb.")
	ckptNumDoneDesc       = ckptDesc("pg_stat_checkpointer_num_done_total", "Checkpoints completed, skipped idle ones left out (PostgreSQL 18+; absent before).")
	ckptWriteTimeDesc     = ckptDesc("pg_stat_checkpointer_write_time_total", "Time checkpoints and restartpoints spent writing files, in milliseconds (checkpoint_write_time before PostgreSQL 17).")
	ckptSyncTimeDesc      = ckptDesc("pg_stat_checkpointer_sync_time_total", "Time checkpoints and restartpoints spent syncing files to disk, in milliseconds (checkpoint_sync_time before PostgreSQL 17).")
	ckptBuffersDesc       = ckptDesc("pg_stat_checkpointer_buffers_written_total", "Shared buffers written by checkpoints and restartpoints (buffers_checkpoint before PostgreSQL 17).")
	ckptRestartTimedDesc  = ckptDesc("pg_stat_checkpointer_restartpoints_timed_total", "Restartpoints (a standby's checkpoints) started by timeout (PostgreSQL 17+; absent before).")
	ckptRestartReqDesc    = ckptDesc("pg_stat_checkpointer_restartpoints_req_total", "Restartpoints requested (PostgreSQL 17+; absent before).")
	ckptRestartDoneDesc   = ckptDesc("pg_stat_checkpointer_restartpoints_done_total", "Restartpoints completed (PostgreSQL 17+; absent before).")
	bgwCleanDesc          = ckptDesc("pg_stat_bgwriter_buffers_clean_total", "Buffers written by the background writer.")
	bgwMaxwrittenDesc     = ckptDesc("pg_stat_bgwriter_maxwritten_clean_total", "Times the background writer stopped a round because it wrote bgwriter_lru_maxpages buffers.")
	bgwAllocDesc          = ckptDesc("pg_stat_bgwriter_buffers_alloc_total", "Buffers allocated.")
	bgwBackendDesc        = ckptDesc("pg_stat_bgwriter_buffers_backend_total", "Buffers written by backends themselves rather than by the checkpointer or background writer (from pg_stat_io's relation writes on PostgreSQL 17+).")
	bgwBackendFsyncDesc   = ckptDesc("pg_stat_bgwriter_buffers_backend_fsync_total", "Times a backend had to run its own fsync (from pg_stat_io's relation fsyncs on PostgreSQL 17+).")
	bgwCkptTimedDesc      = ckptDesc("pg_stat_bgwriter_checkpoints_timed_total", "As pg_stat_checkpointer_num_timed_total, under postgres_exporter's name for PostgreSQL 13–16 (absent on 17+).")
	bgwCkptReqDesc        = ckptDesc("pg_stat_bgwriter_checkpoints_req_total", "As pg_stat_checkpointer_num_requested_total, under postgres_exporter's name for PostgreSQL 13–16 (absent on 17+).")
	bgwCkptWriteTimeDesc  = ckptDesc("pg_stat_bgwriter_checkpoint_write_time_total", "As pg_stat_checkpointer_write_time_total (milliseconds), under postgres_exporter's name for PostgreSQL 13–16 (absent on 17+).")
	bgwCkptSyncTimeDesc   = ckptDesc("pg_stat_bgwriter_checkpoint_sync_time_total", "As pg_stat_checkpointer_sync_time_total (milliseconds), under postgres_exporter's name for PostgreSQL 13–16 (absent on 17+).")
	bgwBuffersCkptDesc    = ckptDesc("pg_stat_bgwriter_buffers_checkpoint_total", "As pg_stat_checkpointer_buffers_written_total, under postgres_exporter's name for PostgreSQL 13–16 (absent on 17+).")
	checkpointColumnDescs = []*prometheus.Desc{
		ckptNumTimedDesc, ckptNumRequestedDesc, ckptNumDoneDesc, ckptWriteTimeDesc, ckptSyncTimeDesc, ckptBuffersDesc,
		ckptRestartTimedDesc, ckptRestartReqDesc, ckptRestartDoneDesc,
		bgwCleanDesc, bgwMaxwrittenDesc, bgwAllocDesc, bgwBackendDesc, bgwBackendFsyncDesc,
	}
)

func ckptDesc(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }

func init() {
	register("checkpoints", "Checkpointer and background writer counters: timed vs requested checkpoints, buffers written, write and sync time (PostgreSQL 13–18)", collectCheckpoints)
}

// Each query returns the columns of checkpointColumnDescs in that order, a
// NULL where this version has no such counter. Every view here is readable
// by any role.
const (
	// PostgreSQL 13–16: everything is in pg_stat_bgwriter.
	checkpointsSQL13 = `
SELECT checkpoints_timed, checkpoints_req, NULL::bigint, checkpoint_write_time, checkpoint_sync_time, buffers_checkpoint,
       NULL::bigint, NULL::bigint, NULL::bigint,
       buffers_clean, maxwritten_clean, buffers_alloc, buffers_backend, buffers_backend_fsync
FROM pg_stat_bgwriter`
	// PostgreSQL 17: pg_stat_checkpointer; backends' own writes only in
	// pg_stat_io (what neither the checkpointer nor the background writer
	// wrote of relations' buffers).
	checkpointsSQL17 = `
SELECT c.num_timed, c.num_requested, NULL::bigint, c.write_time, c.sync_time, c.buffers_written,
       c.restartpoints_timed, c.restartpoints_req, c.restartpoints_done,
       b.buffers_clean, b.maxwritten_clean, b.buffers_alloc, io.writes, io.fsyncs
FROM pg_stat_checkpointer c, pg_stat_bgwriter b,
     (SELECT sum(writes)::bigint AS writes, sum(fsyncs)::bigint AS fsyncs FROM pg_stat_io
       WHERE object = 'relation' AND backend_type NOT IN ('checkpointer', 'background writer')) io`
	// PostgreSQL 18+: as 17, with num_done.
	checkpointsSQL18 = `
SELECT c.num_timed, c.num_requested, c.num_done, c.write_time, c.sync_time, c.buffers_written,
       c.restartpoints_timed, c.restartpoints_req, c.restartpoints_done,
       b.buffers_clean, b.maxwritten_clean, b.buffers_alloc, io.writes, io.fsyncs
FROM pg_stat_checkpointer c, pg_stat_bgwriter b,
     (SELECT sum(writes)::bigint AS writes, sum(fsyncs)::bigint AS fsyncs FROM pg_stat_io
       WHERE object = 'relation' AND backend_type NOT IN ('checkpointer', 'background writer')) io`
)

// checkpointsQuery picks the query for a server's major version.
func checkpointsQuery(major int) string {
	switch {
	case major >= 18:
		return checkpointsSQL18
	case major == 17:
		return checkpointsSQL17
	default:
		return checkpointsSQL13
	}
}

func collectCheckpoints(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	db, err := s.t.database(s.t.maintenance)
	if err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	defer conn.Release()
	major, err := serverMajor(ctx, conn)
	if err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	values := make([]*float64, len(checkpointColumnDescs))
	dest := make([]any, len(values))
	for i := range values {
		dest[i] = &values[i]
	}
	if err := conn.QueryRow(ctx, checkpointsQuery(major)).Scan(dest...); err != nil {
		return fmt.Errorf("checkpoints (PostgreSQL %d): %w", major, err)
	}
	for i, v := range values {
		if v != nil {
			ch <- prometheus.MustNewConstMetric(checkpointColumnDescs[i], prometheus.CounterValue, *v)
		}
	}
	if major < 17 {
		// postgres_exporter's names on the versions it sends them for.
		for i, d := range []*prometheus.Desc{bgwCkptTimedDesc, bgwCkptReqDesc, nil, bgwCkptWriteTimeDesc, bgwCkptSyncTimeDesc, bgwBuffersCkptDesc} {
			if d != nil && values[i] != nil {
				ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, *values[i])
			}
		}
	}
	return nil
}
