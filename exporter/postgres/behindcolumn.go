package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// behindCache holds a database's last good check, the state of the last
// refresh and the refresh in flight.
type behindCache struct {
	mu   sync.Mutex
	last *behindResult // the last successful check
	// lastErr is the last refresh's error, nil once a refresh succeeds;
	// failures counts the refreshes that failed in a row, and no refresh
	// starts before retryAt (backoff).
	lastErr  error
	failures int
	retryAt  time.Time
	running  chan struct{} // closed when the refresh in flight ends
	// comparisons and resumeAfter belong to the refresh in flight (one
	// at a time): the last lookup of each owned sequence, and the oid the
	// next refresh's lookups start after, 0 once a round is complete.
	comparisons []comparison
	resumeAfter uint32
}

// Refreshes that fail are retried after behindRetryBase, doubling per
// failure in a row up to one TTL, so a check that keeps failing costs the
// database no more than one that succeeds.
const behindRetryBase = 5 * time.Second

// behindStaleTTLs is how many TTLs old the last good result may get while
// refreshes fail and it is still served (with success 0): long enough to
// ride out a short outage or a migration's locks, short enough that an
// anomaly fixed meanwhile does not linger for long.
const behindStaleTTLs = 3

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

// behindColumn returns the result to serve for the database, starting a
// background refresh when the last good one is older than the TTL.
//
//   - A result younger than the TTL is served as is.
//   - An older one is still served, at once, while a refresh runs.
//   - While refreshes fail, the last good result is served for up to
//     behindStaleTTLs TTLs together with the error (so the collector
//     reports failure), and refreshes back off.
//   - Only with no result to serve does a scrape wait for a running
//     refresh, up to its deadline.
//
// The refresh runs under the database's lifetime, bounded by the TTL, so
// it stops when the database disappears or the target closes.
func (t *Target) behindColumn(ctx context.Context, db *database) (*behindResult, error) {
	c := &db.behind
	ttl := t.opts.BehindColumnTTL
	c.mu.Lock()
	now := time.Now()
	if c.last != nil && now.Sub(c.last.at) < ttl {
		r := c.last
		c.mu.Unlock()
		return r, nil
	}
	if c.running == nil && !now.Before(c.retryAt) {
		t.startBehindRefresh(db)
	}
	running, last, lastErr := c.running, c.last, c.lastErr
	c.mu.Unlock()
	if last != nil && now.Sub(last.at) >= behindStaleTTLs*ttl {
		last = nil // too old to stand for the database any more
	}
	switch {
	case last != nil && lastErr == nil:
		return last, nil
	case last != nil:
		return last, fmt.Errorf("serving the check from %s ago: refreshing it failed: %w",
			now.Sub(last.at).Round(time.Second), lastErr)
	case running == nil:
		// Backing off after a failure: no refresh to wait for.
		return nil, lastErr
	}
	select {
	case <-running:
	case <-ctx.Done():
		return nil, fmt.Errorf("sequence-behind-column check still running: %w", ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastErr != nil {
		return nil, c.lastErr
	}
	return c.last, nil
}

// startBehindRefresh starts a background check of db; c.mu is held.
func (t *Target) startBehindRefresh(db *database) {
	c := &db.behind
	done := make(chan struct{})
	c.running = done
	go func() {
		ttl := t.opts.BehindColumnTTL
		rctx, cancel := context.WithTimeout(db.life, ttl)
		var r *behindResult
		var err error
		select {
		case t.refreshSlots <- struct{}{}:
			r, err = t.checkBehind(rctx, db)
			<-t.refreshSlots
		case <-rctx.Done():
			err = fmt.Errorf("waiting for a refresh slot: %w", rctx.Err())
		}
		cancel()
		err = t.scrub.error(err)
		c.mu.Lock()
		if err == nil {
			c.last, c.lastErr, c.failures, c.retryAt = r, nil, 0, time.Time{}
		} else {
			c.lastErr = err
			c.failures++
			c.retryAt = time.Now().Add(behindRetryDelay(c.failures, ttl))
		}
		failures, retryAt := c.failures, c.retryAt
		c.running = nil
		c.mu.Unlock()
		// A refresh cut short because the database went away or the
		// target closed is not worth an error in the log.
		if err != nil && db.life.Err() == nil {
			t.logger.Error("sequence-behind-column check failed", "datname", db.name,
				"failures_in_a_row", failures, "retry_in", time.Until(retryAt).Round(time.Millisecond), "err", err)
		}
		close(done)
	}()
}

// behindRetryDelay is how long to wait after the n-th failed refresh in a
// row: behindRetryBase doubled per failure, at most one TTL.
func behindRetryDelay(n int, ttl time.Duration) time.Duration {
	d := behindRetryBase
	for i := 1; i < n && d < ttl; i++ {
		d *= 2
	}
	return min(d, ttl)
}

// lookupChunk is how many column lookups share one statement. A statement
// that fails (a lock or statement timeout) is retried one lookup at a time,
// so one bad table costs only its own lookup. The server's cost per lookup
// grows with the statement's size (planning the UNION ALL): measured with
// pgbench, 0.13–0.16 ms apiece in statements of 5–10, 0.16–0.21 ms at 25,
// 0.36 ms at 100.
const lookupChunk = 20

// checkBehind compares owned sequences' next values with their columns.
// It goes through the owned sequences a page at a time, in oid order from
// where the last refresh's lookups stopped (wrapping around), and in each
// page reads the sequences' values and their tables' state, then looks up
// only the columns whose table changed since their last lookup (or that
// were never looked up), until Options.BehindColumnMaxRuntime has passed;
// the rest wait for the next refresh. The comparisons of unchanged tables
// are recomputed exactly from their kept extremes and the sequences'
// current values. Only one page of names is held at a time: a database of
// 50,000 owned sequences keeps just their comparisons.
// It runs in the refresh goroutine, the only user of c.comparisons.
func (t *Target) checkBehind(ctx context.Context, db *database) (*behindResult, error) {
	start := time.Now()
	c := &db.behind
	rows, err := db.pool.Query(ctx, sequenceOidsSQL)
	if err != nil {
		return nil, fmt.Errorf("owned sequences: %w", err)
	}
	oids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return nil, fmt.Errorf("owned sequences: %w", err)
	}
	from, _ := slices.BinarySearch(oids, c.resumeAfter+1)

	w := behindWalk{t: t, db: db, start: start, capAt: start.Add(t.opts.BehindColumnMaxRuntime),
		prev: c.comparisons, next: make([]comparison, 0, len(c.comparisons)), r: &behindResult{}}
	// Each page is in oid order, as its lookups go.
	for _, part := range [][]uint32{oids[from:], oids[:from]} {
		for page := range slices.Chunk(part, t.ownedPage) {
			if err := w.page(ctx, page); err != nil {
				return nil, err
			}
		}
	}
	// The pages started mid-way; comparisons are kept in oid order.
	slices.SortFunc(w.next, func(a, b comparison) int { return cmp.Compare(a.oid, b.oid) })
	c.comparisons = w.next
	c.resumeAfter = 0
	if w.capped {
		c.resumeAfter = w.lastLooked
	}
	r := w.r
	r.at = time.Now()
	if r.oldest.IsZero() {
		r.oldest = start
	}
	r.took = r.at.Sub(start)
	return r, nil
}

// behindWalk is one refresh's pass over the owned sequences.
type behindWalk struct {
	t            *Target
	db           *database
	start, capAt time.Time
	prev         []comparison // the last refresh's, in oid order
	next         []comparison // this refresh's
	r            *behindResult
	// capped is set once a lookup batch was due past capAt: later stale
	// columns wait for the next refresh, which resumes after lastLooked.
	capped     bool
	lastLooked uint32
	// owned, entries and seqs are one page's, reused from page to page.
	owned   []ownedSequence
	entries []behindEntry
	seqs    []*sequence
}

// behindEntry is where one checkable sequence stands in this refresh.
type behindEntry struct {
	o      *ownedSequence
	c      comparison
	have   bool // c holds a comparison (kept or looked up now)
	stale  bool // its table changed since c, or it was never looked up
	failed bool // its lookup failed this time: unchecked
}

// page checks the owned sequences among one page of sequence oids.
func (w *behindWalk) page(ctx context.Context, oids []uint32) error {
	var err error
	if w.owned, err = readOwnedPage(ctx, w.db, oids, w.owned[:0]); err != nil {
		return err
	}
	w.seqs = w.seqs[:0]
	for i := range w.owned {
		if w.owned[i].checkable {
			w.seqs = append(w.seqs, &w.owned[i].sequence)
		}
	}
	// Unreadable sequences keep a nil value and stay unchecked.
	if err := readValues(ctx, w.db.pool, w.seqs); err != nil {
		return err
	}

	w.entries = w.entries[:0]
	var stale []int // indexes into entries
	for i := range w.owned {
		o := &w.owned[i]
		if !o.checkable || o.last == nil {
			w.r.unchecked++
			continue
		}
		e := behindEntry{o: o, c: comparison{oid: o.oid}}
		if k, ok := slices.BinarySearchFunc(w.prev, o.oid, func(c comparison, oid uint32) int { return cmp.Compare(c.oid, oid) }); ok {
			e.c, e.have = w.prev[k], true
			if e.c.state == o.state && o.state.counted {
				e.c.at, e.c.behind = w.start.UnixNano(), o.behindExtreme(e.c)
			} else {
				e.stale = true
			}
		} else {
			e.stale = true // never compared: at is zero
		}
		if e.stale {
			stale = append(stale, len(w.entries))
		}
		w.entries = append(w.entries, e)
	}

	looked := make([]*ownedSequence, 0, lookupChunk)
	for batch := range slices.Chunk(stale, lookupChunk) {
		// At least one batch runs per refresh, so every refresh progresses.
		if w.capped || (w.r.lookups > 0 && !time.Now().Before(w.capAt)) {
			w.capped = true
			break
		}
		looked = looked[:0]
		for _, i := range batch {
			looked = append(looked, w.entries[i].o)
		}
		extremes, err := w.t.lookupExtremes(ctx, w.db, looked)
		if err != nil {
			return err
		}
		for j, i := range batch {
			e := &w.entries[i]
			x, ok := extremes[j]
			if !ok {
				e.failed = true // skipped (logged): unchecked this time
				continue
			}
			e.c = comparison{oid: e.o.oid, empty: x == nil, state: e.o.state, at: w.start.UnixNano()}
			if x != nil {
				e.c.extreme = *x
			}
			e.c.behind = e.o.behindExtreme(e.c)
			e.have = true
		}
		w.r.lookups += len(batch)
		w.lastLooked = looked[len(looked)-1].oid
	}

	// Failed lookups are dropped (unchecked); never-compared ones pending.
	for _, e := range w.entries {
		switch {
		case e.failed:
			w.r.unchecked++
			continue
		case !e.have:
			w.r.pending++
			continue
		}
		w.next = append(w.next, e.c)
		w.r.checked++
		if at := time.Unix(0, e.c.at); w.r.oldest.IsZero() || at.Before(w.r.oldest) {
			w.r.oldest = at
		}
		if e.c.behind > 0 {
			o := e.o
			table := o.table
			if o.tableSchema != o.schema {
				table = o.tableSchema + "." + o.table
			}
			w.r.anomalies = append(w.r.anomalies, behindAnomaly{
				schema: o.schema, sequence: o.name, table: table, column: o.column, behind: e.c.behind,
			})
		}
	}
	return nil
}

// readOwnedPage reads the owned sequences among oids into owned (reused).
func readOwnedPage(ctx context.Context, db *database, oids []uint32, owned []ownedSequence) ([]ownedSequence, error) {
	rows, err := db.pool.Query(ctx, ownedSequencesSQL, oids)
	if err != nil {
		return nil, fmt.Errorf("owned sequences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		owned = append(owned, ownedSequence{})
		o := &owned[len(owned)-1]
		var integer, colReadable, indexed, locked bool
		if err := rows.Scan(&o.oid, &o.schema, &o.name, &o.increment, &o.tableSchema, &o.table, &o.column,
			&integer, &colReadable, &indexed, &locked, &o.partitioned,
			&o.state.file, &o.state.changes, &o.state.counted); err != nil {
			return nil, fmt.Errorf("owned sequences: %w", err)
		}
		o.checkable = integer && colReadable && indexed && !locked
		o.state.counted = o.state.counted && !o.partitioned
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("owned sequences: %w", err)
	}
	return owned, nil
}

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
