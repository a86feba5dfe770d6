package postgres

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
)

// A refresh that reaches its run-time cap serves what it compared, counts
// the rest as pending, and the next refreshes resume with them until the
// round is complete. Unchanged tables are not looked up again; a changed
// one is, and its anomaly shows exactly. Two targets check the same
// database: one reads it in one page of owned sequences, the other in
// pages of 7, so lookups and resumes cross pages and the wrap-around.
func TestBehindColumnResumesPastItsRuntimeCap(t *testing.T) {
	t.Parallel()
	pg := plantedServer(t)
	// 45 healthy tables more: 56 checkable owned sequences, three batches
	// of lookups (20, 20, 16).
	for i := 1; i <= 45; i++ {
		mustExec(t, pg, "app", fmt.Sprintf("CREATE TABLE r%d (id serial PRIMARY KEY)", i),
			fmt.Sprintf("INSERT INTO r%d SELECT FROM generate_series(1, 3)", i))
	}
	const owned, checkable = 14 + 45, 11 + 45
	// The TTL also bounds each refresh: long enough for one on a loaded
	// machine. A cap of 1ns lets each refresh run one batch only.
	const ttl = 2 * time.Second
	opts := Options{DSN: pg.DSN("postgres"), Databases: []string{"app"},
		BehindColumnTTL: ttl, BehindColumnMaxRuntime: time.Nanosecond}
	onePage, smallPages := newTarget(t, opts), newTarget(t, opts)
	smallPages.ownedPage = 7

	want := maps.Clone(plantedBehind) // what the anomalies may be
	type state struct{ checked, unchecked, pending, lookups float64 }
	var target *Target
	read := func() (state, map[string]float64) {
		s := scrapeTarget(t, target, 10*time.Second)
		s.requireSuccess(t, "sequence_behind_column")
		st := state{
			checked:   s.value(t, "pg_database_sequences_checked", "datname", "app"),
			unchecked: s.value(t, "pg_database_sequences_unchecked", "datname", "app"),
			pending:   s.value(t, "pg_database_sequences_behind_column_pending", "datname", "app"),
			lookups:   s.value(t, "pg_database_sequences_behind_column_lookups", "datname", "app"),
		}
		if st.checked+st.unchecked+st.pending != owned || st.unchecked != 3 {
			t.Fatalf("checked + unchecked + pending = %v, want %d owned, 3 of them unchecked", st, owned)
		}
		if st.lookups > lookupChunk {
			t.Fatalf("a refresh capped at 1ns looked up %v columns, more than one batch (%d)", st.lookups, lookupChunk)
		}
		anomalies := s.series("pg_sequence_behind_column")
		// Whatever has been compared is exact: a subset of the planted
		// anomalies, each with its value.
		for k, v := range anomalies {
			if want[k] != v {
				t.Fatalf("{%s} = %v is not a planted anomaly (%v)", k, v, want[k])
			}
		}
		return st, anomalies
	}
	waitUntil := func(what string, done func(state, map[string]float64) bool) {
		t.Helper()
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if done(read()) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	for _, target = range []*Target{onePage, smallPages} {
		// The round: one batch per refresh (at most a page), the pending
		// ones counting down.
		var pending []float64
		waitUntil("a complete round", func(st state, anomalies map[string]float64) bool {
			if len(pending) == 0 || pending[len(pending)-1] != st.pending {
				pending = append(pending, st.pending)
			}
			if st.pending > 0 {
				return false
			}
			if st.checked != checkable || !maps.Equal(anomalies, plantedBehind) {
				t.Fatalf("page of %d: round complete with %v checked and anomalies %s", target.ownedPage, st.checked, fmtSeries(anomalies))
			}
			return true
		})
		if target == onePage {
			if want := []float64{checkable - 20, checkable - 40, 0}; !slices.Equal(pending, want) {
				t.Errorf("pending over the refreshes = %v, want %v", pending, want)
			}
		} else {
			// Batches end with their page: more refreshes, each a step
			// of at most 7, every sequence compared exactly once.
			if len(pending) < checkable/7 {
				t.Errorf("pages of 7: pending over the refreshes = %v, want a step of at most 7 each", pending)
			}
			for i := 1; i < len(pending); i++ {
				if d := pending[i-1] - pending[i]; d <= 0 || d > 7 {
					t.Errorf("pages of 7: pending over the refreshes = %v, want a step of at most 7 each", pending)
					break
				}
			}
		}

		// Steady state: only the partitioned table (whose rows its
		// partitions count) is looked up again.
		waitUntil("refreshes that look up the partitioned table only", func(st state, _ map[string]float64) bool {
			return st.lookups == 1 && st.checked == checkable
		})
	}

	// A row with an explicit id in r7: its table changed, so it is looked
	// up again. Sequence at 3 (next 4), max 1000: 997 behind.
	mustExec(t, pg, "app", "INSERT INTO r7 (id) VALUES (1000)", flushStats(pg))
	key := "column=id,datname=app,schemaname=public,sequence=r7_id_seq,table=r7"
	want[key] = 997
	for _, target = range []*Target{onePage, smallPages} {
		waitUntil("the new anomaly", func(_ state, anomalies map[string]float64) bool {
			return maps.Equal(anomalies, want)
		})
	}
}
