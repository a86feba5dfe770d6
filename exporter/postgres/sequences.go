package postgres

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	sequenceLabels   = []string{"datname", "schemaname", "sequence", "cycle"}
	sequenceUsedDesc = prometheus.NewDesc("pg_sequence_used_ratio",
		"Share of the sequence's range already handed out, toward its max (ascending) or min (descending), the limit capped by the owning column's type; only the top N sequences by this ratio per database.",
		sequenceLabels, nil)
	sequenceLeftDesc = prometheus.NewDesc("pg_sequence_calls_left",
		"nextval() calls left before the sequence reaches its limit (or wraps, when cycle=\"true\"); only the top N sequences by used ratio per database.",
		sequenceLabels, nil)
	dbSequenceMaxUsedDesc = prometheus.NewDesc("pg_database_sequence_max_used_ratio",
		"Highest pg_sequence_used_ratio among the database's readable non-cycling sequences; 0 when the database has no non-cycling sequence, absent when none of them could be read.",
		[]string{"datname"}, nil)
	dbSequencesUnreadableDesc = prometheus.NewDesc("pg_database_sequences_unreadable",
		"Sequences whose value the exporter could not read this scrape: no USAGE or SELECT privilege, or another session holds a lock that conflicts with reading it.",
		[]string{"datname"}, nil)
)

func init() {
	Collectors.Register("sequences", "Sequence exhaustion, direction-aware and capped by the owning column's type (top N by used ratio)", collectSequences)
}

// lockedRelationsCTE lists relations of this database that another session
// holds, or waits for, in a mode that blocks the given reads. A waiting
// ACCESS EXCLUSIVE request blocks later readers too, so pending locks count.
// Skipping them up front keeps a whole query from failing on lock_timeout.
const lockedRelationsCTE = `
locked AS (
  SELECT l.relation, l.mode
  FROM pg_locks l
  WHERE l.locktype = 'relation'
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.pid <> pg_backend_pid()
)`

// sequencesSQL lists every sequence from the catalogs (no sequence is
// opened). The owning column (serial, OWNED BY or identity) caps the limit.
// Other sessions' temporary sequences cannot be read and are left out.
const sequencesSQL = `
SELECT c.oid, n.nspname, c.relname, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle,
       CASE a.atttypid WHEN 'int2'::regtype THEN 2 WHEN 'int4'::regtype THEN 4 WHEN 'int8'::regtype THEN 8 ELSE 0 END
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d
  ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.objsubid = 0
 AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE c.relpersistence <> 't'`

// lastValuesSQL reads the values of a batch of sequences.
// pg_sequence_last_value needs USAGE or SELECT and takes ROW EXCLUSIVE on
// the sequence, so it is only called when both are fine; it returns NULL
// when the sequence was never called or was reset with is_called = false.
// Batches keep the locks one statement holds well below the server's lock
// table (max_locks_per_transaction), which one statement over tens of
// thousands of sequences would exhaust.
const lastValuesSQL = `
WITH` + lockedRelationsCTE + `
SELECT r.i::int4, r.readable, CASE WHEN r.readable THEN pg_sequence_last_value(r.o) END
FROM (
  SELECT o, i, coalesce(has_sequence_privilege(o, 'USAGE, SELECT'), false)
            AND o NOT IN (SELECT relation FROM locked
                          WHERE mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')) AS readable
  FROM unnest($1::oid[]) WITH ORDINALITY AS u(o, i)
) r`

// sequence is one sequence's state, built a batch at a time from the
// cached catalog (catalogDefs) and then given its value.
type sequence struct {
	oid            uint32
	cycle          bool
	readable       bool
	calledResolved bool // is_called, once last is known
	schema, name   string
	increment      int64
	min, max       int64
	last           *int64 // pg_sequence_last_value: nil when not called (or unreadable)
	columnBytes    int    // owning column's integer width, 0 when none
}

// position is the last value the sequence handed out, or one step before
// the value it will hand out next when it was never called: the point the
// next nextval() moves on from.
func (s *sequence) position() *big.Int {
	p := big.NewInt(*s.last)
	if !s.calledResolved {
		p.Sub(p, big.NewInt(s.increment))
	}
	return p
}

// next is the value the next nextval() returns (ignoring wrap-around).
func (s *sequence) next() *big.Int {
	n := big.NewInt(*s.last)
	if s.calledResolved {
		n.Add(n, big.NewInt(s.increment))
	}
	return n
}

// limit is where the sequence runs out: its own max (min when descending),
// or sooner when the owning column's type is narrower.
func (s *sequence) limit() int64 {
	if s.increment > 0 {
		if s.columnBytes > 0 {
			return min(s.max, intMax(s.columnBytes))
		}
		return s.max
	}
	if s.columnBytes > 0 {
		return max(s.min, -intMax(s.columnBytes)-1)
	}
	return s.min
}

func intMax(bytes int) int64 { return int64(1)<<(8*bytes-1) - 1 }

// usage returns the used ratio in [0, 1] and the calls left. It runs for
// every sequence on every scrape, so it works in int64 and falls back to
// big integers only when a difference overflows (ranges near the int64
// ends); both give the same figures.
func (s *sequence) usage() (ratio, callsLeft float64) {
	if ratio, callsLeft, ok := s.usage64(); ok {
		return ratio, callsLeft
	}
	return s.usageBig()
}

// usage64 is usage in int64 arithmetic; ok is false on overflow.
func (s *sequence) usage64() (ratio, callsLeft float64, ok bool) {
	pos := *s.last
	if !s.calledResolved {
		if pos, ok = sub64(pos, s.increment); !ok {
			return 0, 0, false
		}
	}
	limit := s.limit()
	var used, span, left int64
	var ok1, ok2, ok3 bool
	if s.increment > 0 {
		used, ok1 = sub64(pos, s.min)
		span, ok2 = sub64(limit, s.min)
		left, ok3 = sub64(limit, pos)
	} else {
		used, ok1 = sub64(s.max, pos)
		span, ok2 = sub64(s.max, limit)
		left, ok3 = sub64(pos, limit)
	}
	if !ok1 || !ok2 || !ok3 || s.increment == math.MinInt64 {
		return 0, 0, false
	}
	step := s.increment
	if step < 0 {
		step = -step
	}
	left /= step
	if left < 0 {
		left = 0
	}
	callsLeft = float64(left)
	if span <= 0 {
		if left == 0 {
			return 1, 0, true
		}
		return 0, callsLeft, true
	}
	return math.Min(1, math.Max(0, float64(used)/float64(span))), callsLeft, true
}

// sub64 is a - b, with ok false when it overflows.
func sub64(a, b int64) (d int64, ok bool) {
	d = a - b
	return d, (a >= 0) == (b >= 0) || (d >= 0) == (a >= 0)
}

// usageBig is usage in arbitrary precision.
func (s *sequence) usageBig() (ratio, callsLeft float64) {
	pos := s.position()
	limit := big.NewInt(s.limit())
	var used, span, left big.Int
	if s.increment > 0 {
		start := big.NewInt(s.min)
		used.Sub(pos, start)
		span.Sub(limit, start)
		left.Sub(limit, pos)
	} else {
		start := big.NewInt(s.max)
		used.Sub(start, pos)
		span.Sub(start, limit)
		left.Sub(pos, limit)
	}
	step := big.NewInt(s.increment)
	step.Abs(step)
	left.Quo(&left, step)
	if left.Sign() < 0 {
		left.SetInt64(0)
	}
	callsLeft, _ = new(big.Float).SetInt(&left).Float64()
	if span.Sign() <= 0 {
		if left.Sign() == 0 {
			return 1, 0
		}
		return 0, callsLeft
	}
	u, _ := new(big.Float).SetInt(&used).Float64()
	sp, _ := new(big.Float).SetInt(&span).Float64()
	return math.Min(1, math.Max(0, u/sp)), callsLeft
}

// querier is what reading sequences needs from a pool or a connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// valuesChunk is how many sequences one statement reads.
const valuesChunk = 1000

// readValues sets readable, last and calledResolved of each sequence. A
// sequence left with a nil last could not be read.
func readValues(ctx context.Context, q querier, seqs []*sequence) error {
	oids := make([]uint32, 0, min(len(seqs), valuesChunk))
	for chunk := range slices.Chunk(seqs, valuesChunk) {
		oids = oids[:0]
		for _, s := range chunk {
			oids = append(oids, s.oid)
		}
		rows, err := q.Query(ctx, lastValuesSQL, oids)
		if err != nil {
			return fmt.Errorf("sequence values: %w", err)
		}
		var i int
		var readable bool
		var last *int64
		_, err = pgx.ForEachRow(rows, []any{&i, &readable, &last}, func() error {
			// Rows are numbered by their position in the chunk (from 1).
			if i < 1 || i > len(chunk) {
				return fmt.Errorf("unexpected row %d", i)
			}
			s := chunk[i-1]
			s.readable, s.last, s.calledResolved = readable, last, last != nil
			return nil
		})
		if err != nil {
			if statementFailed(err) {
				// A lock taken since the lock check: this batch stays
				// unread this time and counts as unreadable.
				for _, s := range chunk {
					s.readable, s.last = false, nil
				}
				continue
			}
			return fmt.Errorf("sequence values: %w", err)
		}
	}
	return resolveUncalled(ctx, q, seqs)
}

// uncalledChunk is how many sequences one UNION ALL statement reads. The
// server's cost per sequence grows with the statement's size (planning):
// measured with pgbench, 25–50 µs apiece in statements of 10–50, 240 µs
// at 500, 400–680 µs at 1,000.
const uncalledChunk = 25

// resolveUncalled reads the stored value of readable sequences whose
// pg_sequence_last_value is NULL: never called, or reset with
// is_called = false. Only the sequence relation itself holds that value,
// so these are read directly, many per statement.
func resolveUncalled(ctx context.Context, q querier, seqs []*sequence) error {
	var pending []*sequence
	for _, s := range seqs {
		if s.readable && s.last == nil {
			pending = append(pending, s)
		}
	}
	for chunk := range slices.Chunk(pending, uncalledChunk) {
		var sb strings.Builder
		for i, s := range chunk {
			if i > 0 {
				sb.WriteString("\nUNION ALL ")
			}
			fmt.Fprintf(&sb, "SELECT %d, last_value, is_called FROM %s", i, pgx.Identifier{s.schema, s.name}.Sanitize())
		}
		rows, err := q.Query(ctx, sb.String())
		if err != nil {
			if statementFailed(err) {
				// A sequence dropped or locked since the catalog query:
				// the chunk stays unread and is counted as unreadable.
				continue
			}
			return fmt.Errorf("read uncalled sequences: %w", err)
		}
		var i int
		var last int64
		var called bool
		_, err = pgx.ForEachRow(rows, []any{&i, &last, &called}, func() error {
			if i < 0 || i >= len(chunk) {
				return fmt.Errorf("unexpected row %d", i)
			}
			v := last
			chunk[i].last = &v
			chunk[i].calledResolved = called
			return nil
		})
		if err != nil {
			if statementFailed(err) {
				for _, s := range chunk {
					s.last = nil
				}
				continue
			}
			return fmt.Errorf("read uncalled sequences: %w", err)
		}
	}
	return nil
}

func collectSequences(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	return s.eachDatabase(ctx, func(ctx context.Context, db *database) error {
		r, at, err := db.sequenceRanks.get(ctx, s.t, db, "sequences", func(ctx context.Context) (ranking, int, error) {
			k := newRanker(s.t.opts.TopSequences)
			n, err := db.sequences.read(ctx, db.pool, k.add)
			if err != nil {
				return ranking{}, 0, err
			}
			return k.result(), n, nil
		})
		if err != nil {
			return err
		}
		for _, u := range r.top {
			cycle := strconv.FormatBool(u.s.cycle)
			ch <- prometheus.MustNewConstMetric(sequenceUsedDesc, prometheus.GaugeValue, u.ratio, db.name, u.s.schema, u.s.name, cycle)
			ch <- prometheus.MustNewConstMetric(sequenceLeftDesc, prometheus.GaugeValue, u.left, db.name, u.s.schema, u.s.name, cycle)
		}
		// With every candidate unreadable a 0 would read as healthy:
		// leave the series out, pg_database_sequences_unreadable says why.
		if r.maxUsedKnown() {
			ch <- prometheus.MustNewConstMetric(dbSequenceMaxUsedDesc, prometheus.GaugeValue, r.maxUsed, db.name)
		}
		ch <- prometheus.MustNewConstMetric(dbSequencesUnreadableDesc, prometheus.GaugeValue, float64(r.unreadable), db.name)
		ch <- lastRefreshMetric("sequences", db.name, at)
		return nil
	})
}

// sequenceUsage is one readable sequence's used ratio and calls left.
type sequenceUsage struct {
	s           *sequence
	ratio, left float64
}

// ranking is what a database's sequences amount to.
type ranking struct {
	top        []sequenceUsage // the n highest used ratios, highest first
	unreadable int
	maxUsed    float64 // among the readable non-cycling sequences
	// readNonCycling and unreadableNonCycling count the non-cycling
	// sequences, the ones maxUsed is about.
	readNonCycling, unreadableNonCycling int
}

// maxUsedKnown reports whether maxUsed stands for the database: some
// non-cycling sequence was read, or there is none to read.
func (r ranking) maxUsedKnown() bool { return r.readNonCycling > 0 || r.unreadableNonCycling == 0 }

// ranker ranks sequences a batch at a time, so a read never holds more
// than a batch of values: a bounded heap keeps the top n without sorting
// them all, each kept sequence in its own copy.
type ranker struct {
	n int
	h usageHeap
	r ranking
}

func newRanker(n int) *ranker { return &ranker{n: n} }

func (k *ranker) add(seqs []*sequence) {
	for _, seq := range seqs {
		if !seq.readable || seq.last == nil {
			k.r.unreadable++
			if !seq.cycle {
				k.r.unreadableNonCycling++
			}
			continue
		}
		ratio, left := seq.usage()
		if !seq.cycle {
			k.r.readNonCycling++
			k.r.maxUsed = max(k.r.maxUsed, ratio)
		}
		u := sequenceUsage{seq, ratio, left}
		switch {
		case k.n <= 0:
			continue
		case len(k.h) < k.n:
		case byUsage(u, k.h[0]) < 0:
			heap.Pop(&k.h)
		default:
			continue
		}
		kept := *seq
		u.s = &kept
		heap.Push(&k.h, u)
	}
}

// result is the ranking of everything added.
func (k *ranker) result() ranking {
	r := k.r
	r.top = slices.Clone(k.h)
	slices.SortFunc(r.top, byUsage)
	return r
}

// byUsage orders by used ratio, highest first, then schema and name.
func byUsage(a, b sequenceUsage) int {
	if c := cmp.Compare(b.ratio, a.ratio); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.s.schema, b.s.schema), cmp.Compare(a.s.name, b.s.name))
}

// usageHeap has the lowest-ranked of the kept sequences on top.
type usageHeap []sequenceUsage

func (h usageHeap) Len() int           { return len(h) }
func (h usageHeap) Less(i, j int) bool { return byUsage(h[i], h[j]) > 0 }
func (h usageHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *usageHeap) Push(x any)        { *h = append(*h, x.(sequenceUsage)) }
func (h *usageHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
