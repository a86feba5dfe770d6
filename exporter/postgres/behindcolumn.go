package postgres

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	behindDesc = prometheus.NewDesc("pg_sequence_behind_column",
		"How many values the sequence's next value is behind its owning column's max (min when descending): the next insert that takes the default collides. One series per anomaly.",
		[]string{"datname", "schemaname", "sequence", "table", "column"}, nil)
	dbBehindDesc = prometheus.NewDesc("pg_database_sequences_behind_column",
		"Owned sequences whose next value is not past their column's max (min when descending).", []string{"datname"}, nil)
	dbCheckedDesc = prometheus.NewDesc("pg_database_sequences_checked",
		"Owned sequences compared with their column in the last behind-column check.", []string{"datname"}, nil)
	dbUncheckedDesc = prometheus.NewDesc("pg_database_sequences_unchecked",
		"Owned sequences skipped in the last behind-column check: no leading btree index on the column (the check never scans a table), not an integer column, no privilege to read the sequence or the column, or the table was locked or the lookup timed out.",
		[]string{"datname"}, nil)
	dbBehindCheckDesc = prometheus.NewDesc("pg_database_sequences_behind_column_check_duration_seconds",
		"How long the last behind-column check of the database took. It runs in the background, at most once per TTL, so scrapes do not pay for it.",
		[]string{"datname"}, nil)
	dbBehindAgeDesc = prometheus.NewDesc("pg_database_sequences_behind_column_age_seconds",
		"Seconds since the oldest comparison in the behind-column result served for the database was made or confirmed. Up to the TTL normally; more while refreshes fail or a round spans several refreshes (see pending), and the result is dropped three TTLs after its refresh.",
		[]string{"datname"}, nil)
	dbPendingDesc = prometheus.NewDesc("pg_database_sequences_behind_column_pending",
		"Checkable owned sequences not compared yet: the last behind-column check reached its run-time cap, and the next one resumes with them.",
		[]string{"datname"}, nil)
	dbLookupsDesc = prometheus.NewDesc("pg_database_sequences_behind_column_lookups",
		"Columns the last behind-column check looked up (one index descent each); the other compared sequences' tables had no row change since their last lookup.",
		[]string{"datname"}, nil)
)

func init() {
	Collectors.Register("sequence_behind_column", "Sequences whose next value collides with their column's existing values (index-backed, cached)", collectBehindColumn)
}

// ownedSequencesSQL lists sequences owned by a column (serial / OWNED BY:
// deptype 'a'; identity: 'i') with what the check needs to decide whether
// it may look the column up: an integer type, the privilege to read the
// column, a valid, non-partial btree index whose first key is the column
// (so max()/min() is one index descent), and no ACCESS EXCLUSIVE lock held
// or awaited on the table.
const ownedSequencesSQL = `
WITH` + lockedRelationsCTE + `
SELECT c.oid, n.nspname, c.relname, s.seqincrement,
       tn.nspname, t.relname, a.attname,
       a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) AS integer_column,
       has_column_privilege(t.oid, a.attnum, 'SELECT') AS column_readable,
       EXISTS (
         SELECT 1
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_am am ON am.oid = ic.relam
         WHERE i.indrelid = t.oid AND i.indkey[0] = a.attnum
           AND am.amname = 'btree' AND i.indpred IS NULL AND i.indisvalid AND i.indisready
       ) AS indexed,
       t.oid IN (SELECT relation FROM locked WHERE mode = 'AccessExclusiveLock') AS table_locked,
       t.relkind = 'p' AS partitioned,
       t.relfilenode,
       pg_stat_get_tuples_inserted(t.oid) + pg_stat_get_tuples_updated(t.oid) + pg_stat_get_tuples_deleted(t.oid),
       current_setting('track_counts')::bool AND NOT pg_is_in_recovery() AS counted
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_depend d
  ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.objsubid = 0
 AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace tn ON tn.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
WHERE c.relpersistence <> 't' AND t.relkind IN ('r', 'p')
  AND s.seqrelid = ANY($1::oid[])
ORDER BY c.oid`

// sequenceOidsSQL lists every sequence, for ownedSequencesSQL's pages.
const sequenceOidsSQL = `SELECT seqrelid FROM pg_sequence ORDER BY seqrelid`

// ownedPage is how many sequences one ownedSequencesSQL statement lists.
// One statement over a whole catalog of 50,000 sequences takes seconds,
// more than statement_timeout on a loaded server, and would then fail on
// every refresh; a page of 1,000 is planned as index lookups per sequence
// (the oid list gives the planner the row count) and takes a fraction of
// a second.
const ownedPage = 1000

// ownedSequence is a sequence with its owning column.
type ownedSequence struct {
	sequence
	tableSchema, table, column string
	// partitioned tables are looked up whole: every partition has the
	// partitioned index. Plain tables are looked up alone (FROM ONLY): an
	// inheritance child may lack the index and would be scanned.
	partitioned bool
	checkable   bool
	state       tableState
}

// tableState is what a table's statistics say about changes to its rows:
// the file its rows live in (TRUNCATE, VACUUM FULL and CLUSTER replace it)
// and its cumulative inserted + updated + deleted row count. While both
// stay put, no transaction that changed a row has ended (and had its
// statistics flushed) since, so a column extreme read earlier still holds.
type tableState struct {
	changes int64
	file    uint32
	// counted is false when the counts cannot be trusted: track_counts is
	// off, or the server is a standby (replay does not count). Partitioned
	// tables count nothing themselves; their rows are in the partitions.
	counted bool
}

// comparison is the last column lookup of one owned sequence, kept across
// refreshes (by sequence oid, in oid order).
type comparison struct {
	oid     uint32
	empty   bool // the table had no row
	extreme int64
	state   tableState // at the lookup (read before it)
	// at is when the refresh that last looked the column up or confirmed
	// it unchanged started (Unix nanoseconds, 0 for never): 50,000 of
	// these are kept per database.
	at     int64
	behind float64 // at that refresh
}

// behindResult is one completed check of a database.
type behindResult struct {
	at                 time.Time // when the refresh ended; the TTL counts from it
	oldest             time.Time // the oldest comparison the result holds
	anomalies          []behindAnomaly
	checked, unchecked int
	// pending are checkable sequences not compared yet: the refresh hit
	// its run-time cap and the next one resumes with them.
	pending int
	lookups int           // columns the refresh looked up; the rest were unchanged
	took    time.Duration // the check's own duration
}

type behindAnomaly struct {
	schema, sequence, table, column string
	behind                          float64
}

func collectBehindColumn(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	return s.eachDatabase(ctx, func(ctx context.Context, db *database) error {
		r, err := s.t.behindColumn(ctx, db)
		if r == nil {
			return err
		}
		for _, a := range r.anomalies {
			ch <- prometheus.MustNewConstMetric(behindDesc, prometheus.GaugeValue, a.behind, db.name, a.schema, a.sequence, a.table, a.column)
		}
		ch <- prometheus.MustNewConstMetric(dbBehindDesc, prometheus.GaugeValue, float64(len(r.anomalies)), db.name)
		ch <- prometheus.MustNewConstMetric(dbCheckedDesc, prometheus.GaugeValue, float64(r.checked), db.name)
		ch <- prometheus.MustNewConstMetric(dbUncheckedDesc, prometheus.GaugeValue, float64(r.unchecked), db.name)
		ch <- prometheus.MustNewConstMetric(dbBehindCheckDesc, prometheus.GaugeValue, r.took.Seconds(), db.name)
		ch <- prometheus.MustNewConstMetric(dbBehindAgeDesc, prometheus.GaugeValue, time.Since(r.oldest).Seconds(), db.name)
		ch <- prometheus.MustNewConstMetric(dbPendingDesc, prometheus.GaugeValue, float64(r.pending), db.name)
		ch <- prometheus.MustNewConstMetric(dbLookupsDesc, prometheus.GaugeValue, float64(r.lookups), db.name)
		// A stale result comes with the refresh's error: its series are
		// sent, and the collector reports failure.
		return err
	})
}

// lookupChunk is how many column lookups share one statement. A statement
// that fails (a lock or statement timeout) is retried one lookup at a time,
// so one bad table costs only its own lookup. The server's cost per lookup
// grows with the statement's size (planning the UNION ALL): measured with
// pgbench, 0.13–0.16 ms apiece in statements of 5–10, 0.16–0.21 ms at 25,
// 0.36 ms at 100.
const lookupChunk = 20

// behindExtreme is behind for a kept comparison: 0 for an empty table.
func (o *ownedSequence) behindExtreme(c comparison) float64 {
	if c.empty {
		return 0
	}
	return o.behind(c.extreme)
}

// behind is how far the next value must move to get past the column's
// extreme: 0 when it already is past it.
func (o *ownedSequence) behind(extreme int64) float64 {
	d := new(big.Int)
	if o.increment > 0 {
		d.Sub(big.NewInt(extreme), o.next())
	} else {
		d.Sub(o.next(), big.NewInt(extreme))
	}
	if d.Sign() < 0 {
		return 0
	}
	d.Add(d, big.NewInt(1))
	f, _ := new(big.Float).SetInt(d).Float64()
	return f
}

// lookupExtremes reads max(column) (min for descending sequences) for each
// owned sequence. It returns, by index into owned, the value (nil for an
// empty table) for the lookups that succeeded. Sequential scans are
// switched off for the statement: with a leading btree index the planner
// answers max()/min() with one index descent, and must never fall back to
// reading the table because it believes it is small.
func (t *Target) lookupExtremes(ctx context.Context, db *database, owned []*ownedSequence) (map[int]*int64, error) {
	out := make(map[int]*int64, len(owned))

	run := func(first int, batch []*ownedSequence) error {
		// A connection per statement, not per refresh: with a pool of one
		// a long refresh must not keep scrapes of the database waiting.
		conn, err := db.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		// The simple protocol runs both statements in one implicit
		// transaction, which is what SET LOCAL needs.
		sql := "SET LOCAL enable_seqscan = off;\n" + lookupSQL(first, batch)
		results, err := conn.Conn().PgConn().Exec(ctx, sql).ReadAll()
		if err != nil {
			return err
		}
		if len(results) != 2 {
			return fmt.Errorf("column lookup: %d results, want 2", len(results))
		}
		for _, row := range results[1].Rows {
			i, err := strconv.Atoi(string(row[0]))
			if err != nil || i < first || i >= first+len(batch) {
				return fmt.Errorf("column lookup: unexpected row %q", row[0])
			}
			if row[1] == nil {
				out[i] = nil
				continue
			}
			v, err := strconv.ParseInt(string(row[1]), 10, 64)
			if err != nil {
				return fmt.Errorf("column lookup: %w", err)
			}
			out[i] = &v
		}
		return nil
	}

	for first := 0; first < len(owned); first += lookupChunk {
		batch := owned[first:min(first+lookupChunk, len(owned))]
		err := run(first, batch)
		if err == nil {
			continue
		}
		if !statementFailed(err) {
			return nil, fmt.Errorf("column lookup: %w", err)
		}
		// Find the lookups that fail on their own; the rest still count.
		for i, o := range batch {
			err := run(first+i, batch[i:i+1])
			if err == nil {
				continue
			}
			if !statementFailed(err) {
				return nil, fmt.Errorf("column lookup: %w", err)
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			t.logger.Warn("sequence-behind-column lookup skipped", "datname", db.name,
				"sequence", o.schema+"."+o.name, "table", o.tableSchema+"."+o.table, "column", o.column, "err", t.scrub.error(err))
		}
	}
	return out, nil
}

// lookupSQL reads the extremes of a batch of columns in one statement, one
// row per column numbered from first. Each scalar subquery is planned on
// its own, so each gets the index descent of a plain max()/min().
func lookupSQL(first int, batch []*ownedSequence) string {
	var sb strings.Builder
	for i, o := range batch {
		if i > 0 {
			sb.WriteString("\nUNION ALL ")
		}
		agg := "max"
		if o.increment < 0 {
			agg = "min"
		}
		only := "ONLY "
		if o.partitioned {
			only = ""
		}
		fmt.Fprintf(&sb, "SELECT %d, (SELECT %s(%s) FROM %s%s)::int8", first+i, agg,
			pgx.Identifier{o.column}.Sanitize(), only, pgx.Identifier{o.tableSchema, o.table}.Sanitize())
	}
	return sb.String()
}
