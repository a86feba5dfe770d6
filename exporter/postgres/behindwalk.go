package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

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
