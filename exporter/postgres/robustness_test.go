package postgres

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redline-sre/redline/internal/testenv"
)

// holdLock opens a session in db that runs stmts inside a transaction and
// keeps it open until the test ends.
func holdLock(t *testing.T, pg *testenv.Postgres, db string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	for _, s := range append([]string{"BEGIN"}, stmts...) {
		if _, err := conn.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestLockedTableDoesNotHoldUpTheScrape(t *testing.T) {
	t.Parallel()
	pg := plantedServer(t)
	// A migration holds ACCESS EXCLUSIVE on a table whose sequence is
	// behind, and has altered a sequence (which locks the sequence).
	holdLock(t, pg, "app",
		"LOCK TABLE t_setval IN ACCESS EXCLUSIVE MODE",
		"ALTER SEQUENCE cyc MAXVALUE 2000")

	target := newTarget(t, Options{DSN: pg.DSN("postgres"), LockTimeout: 200 * time.Millisecond})
	const deadline = 3 * time.Second
	s := scrapeTarget(t, target, deadline)
	if s.took > deadline+500*time.Millisecond {
		t.Errorf("scrape took %s, deadline %s", s.took, deadline)
	}
	s.requireSuccess(t, allCollectors()...)
	// The locked table is skipped, not waited for: its anomaly is
	// unchecked this round, the other four are still found.
	if v := s.value(t, "pg_database_sequences_behind_column", "datname", "app"); v != 4 {
		t.Errorf("behind = %v, want 4", v)
	}
	if v := s.value(t, "pg_database_sequences_unchecked", "datname", "app"); v != 4 {
		t.Errorf("unchecked = %v, want 4 (3 without index + the locked table)", v)
	}
	// The altered sequence cannot be read without waiting: counted.
	if v := s.value(t, "pg_database_sequences_unreadable", "datname", "app"); v != 1 {
		t.Errorf("unreadable = %v, want 1 (the altered sequence)", v)
	}
	if s.has("pg_sequence_used_ratio", "sequence", "cyc") {
		t.Error("the locked sequence has a used ratio")
	}
	if !s.has("pg_stat_user_tables_n_dead_tup", "relname", "t_setval") {
		t.Error("dead tuples of the locked table are missing (statistics need no table lock)")
	}
}

// When a lock appears after the catalog query saw none, the lookup waits
// lock_timeout at most, and only that table's lookup is lost.
func TestLookupFallsBackPastALockTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := plantedServer(t)
	target := newTarget(t, Options{DSN: pg.DSN("app"), LockTimeout: 100 * time.Millisecond})
	db, err := target.database("app")
	if err != nil {
		t.Fatal(err)
	}
	owned := []*ownedSequence{
		{sequence: sequence{increment: 1}, tableSchema: "public", table: "t_ok", column: "id"},
		{sequence: sequence{increment: 1}, tableSchema: "public", table: "t_setval", column: "id"},
		{sequence: sequence{increment: -1}, tableSchema: "public", table: "t_desc", column: "id"},
		{sequence: sequence{increment: 1}, tableSchema: "public", table: "t_empty", column: "id"},
	}
	holdLock(t, pg, "app", "LOCK TABLE t_setval IN ACCESS EXCLUSIVE MODE")
	start := time.Now()
	got, err := target.lookupExtremes(ctx, db, owned)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("lookups took %s with a 100ms lock_timeout", d)
	}
	if _, ok := got[1]; ok {
		t.Error("the locked table's lookup succeeded")
	}
	if len(got) != 3 || got[0] == nil || *got[0] != 20 || got[2] == nil || *got[2] != -30 || got[3] != nil {
		t.Errorf("lookups = %v", got)
	}
}

func TestDroppedDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	for _, db := range []string{"app", "doomed"} {
		if err := pg.CreateDatabase(ctx, db); err != nil {
			t.Fatal(err)
		}
		plantSequences(t, pg, db)
	}
	target := newTarget(t, Options{DSN: pg.DSN("postgres")})
	for range 2 {
		s := scrapeTarget(t, target, 5*time.Second)
		s.requireSuccess(t, allCollectors()...)
		if !s.has("pg_database_sequences_behind_column", "datname", "doomed") || !s.has("pg_database_dead_tuples", "datname", "doomed") {
			t.Fatal("doomed database not covered")
		}
	}
	// In steady state a scrape opens no connection.
	before := newConns(target)
	scrapeTarget(t, target, 5*time.Second)
	if after := newConns(target); after != before {
		t.Errorf("a steady-state scrape opened %d connections", after-before)
	}

	// The exporter's idle connections would block a plain DROP DATABASE;
	// FORCE terminates them, as an operator would have to.
	mustExec(t, pg, "postgres", "DROP DATABASE doomed WITH (FORCE)")
	for range 2 {
		s := scrapeTarget(t, target, 5*time.Second)
		s.requireSuccess(t, allCollectors()...)
		for name, mf := range s.families {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "datname" && l.GetValue() == "doomed" {
						t.Errorf("series of the dropped database remain: %s", name)
					}
				}
			}
		}
		if !s.has("pg_database_sequences_behind_column", "datname", "app") {
			t.Error("app database lost")
		}
	}
	target.mu.Lock()
	_, kept := target.dbs["doomed"]
	target.mu.Unlock()
	if kept {
		t.Error("the dropped database's pool is still open")
	}
}

func newConns(t *Target) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, db := range t.dbs {
		n += db.pool.Stat().NewConnsCount()
	}
	return n
}

func TestLeastPrivilege(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := plantedServer(t)
	if err := pg.CreateRole(ctx, "mon", "mon-pw-1234", "IN ROLE pg_monitor"); err != nil {
		t.Fatal(err)
	}
	if pg.Version >= 140000 {
		if err := pg.CreateRole(ctx, "reader", "reader-pw-1234", "IN ROLE pg_monitor, pg_read_all_data"); err != nil {
			t.Fatal(err)
		}
	} else {
		// pg_read_all_data is new in 14: the same reach by grants.
		if err := pg.CreateRole(ctx, "reader", "reader-pw-1234", "IN ROLE pg_monitor"); err != nil {
			t.Fatal(err)
		}
		mustExec(t, pg, "app", "GRANT USAGE ON SCHEMA other TO reader",
			"GRANT SELECT ON ALL TABLES IN SCHEMA public, other TO reader",
			"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, other TO reader")
	}

	t.Run("pg_monitor only", func(t *testing.T) {
		var logs strings.Builder
		target, err := NewTarget(Options{DSN: pg.DSNFor("mon", "mon-pw-1234", "postgres")}, slogTo(&logs))
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		s := scrapeTarget(t, target, 5*time.Second)
		s.requireSuccess(t, allCollectors()...)
		if logs.Len() > 0 {
			t.Errorf("errors logged:\n%s", logs.String())
		}
		// Without USAGE/SELECT no sequence value can be read: all 18 are
		// counted, none is reported, none is checked against its column.
		if v := s.value(t, "pg_database_sequences_unreadable", "datname", "app"); v != 18 {
			t.Errorf("unreadable = %v, want 18", v)
		}
		if s.has("pg_sequence_used_ratio", "datname", "app") || s.has("pg_sequence_behind_column") {
			t.Error("sequence values reported without the privilege to read them")
		}
		// No sequence read: the database's maximum is unknown, not 0. A
		// database without sequences still reports its honest 0.
		if s.has("pg_database_sequence_max_used_ratio", "datname", "app") {
			t.Errorf("max used ratio reported with no sequence read: %s", fmtSeries(s.series("pg_database_sequence_max_used_ratio")))
		}
		if v := s.value(t, "pg_database_sequence_max_used_ratio", "datname", "postgres"); v != 0 {
			t.Errorf("postgres (no sequences) max used ratio = %v", v)
		}
		if v := s.value(t, "pg_database_sequences_checked", "datname", "app"); v != 0 {
			t.Errorf("checked = %v", v)
		}
		if v := s.value(t, "pg_database_sequences_unchecked", "datname", "app"); v != 14 {
			t.Errorf("unchecked = %v, want all 14 owned sequences", v)
		}
		// The statistics and server-wide signals need no more than pg_monitor.
		if !s.has("pg_stat_user_tables_n_dead_tup", "datname", "app") || !s.has("pg_clock_skew_seconds") ||
			!s.has("pg_stat_activity_count", "datname", "app") {
			t.Error("signals missing under pg_monitor")
		}
	})

	t.Run("pg_monitor and pg_read_all_data", func(t *testing.T) {
		target := newTarget(t, Options{DSN: pg.DSNFor("reader", "reader-pw-1234", "postgres")})
		s := scrapeTarget(t, target, 5*time.Second)
		s.requireSuccess(t, allCollectors()...)
		if v := s.value(t, "pg_database_sequences_unreadable", "datname", "app"); v != 0 {
			t.Errorf("unreadable = %v", v)
		}
		got := s.series("pg_sequence_behind_column")
		if len(got) != len(plantedBehind) {
			t.Errorf("flagged %s", fmtSeries(got))
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		var logs strings.Builder
		target, err := NewTarget(Options{DSN: pg.DSNFor("mon", "wrong-pw-5678", "postgres")}, slogTo(&logs))
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		s := scrapeTarget(t, target, 5*time.Second)
		if v := s.value(t, "pg_up"); v != 0 {
			t.Errorf("pg_up = %v", v)
		}
		if !strings.Contains(logs.String(), "password authentication failed") || strings.Contains(logs.String(), "wrong-pw-5678") {
			t.Errorf("log:\n%s", logs.String())
		}
	})
}

// A result older than the TTL is served at once while a refresh runs in the
// background; the next scrape after the refresh sees the new state.
func TestBehindColumnCache(t *testing.T) {
	t.Parallel()
	pg := plantedServer(t)
	// The TTL also bounds each refresh: short enough for a quick test,
	// long enough that a refresh (connecting included) finishes on a
	// loaded machine running the other tests' servers.
	const ttl = 2 * time.Second
	target := newTarget(t, Options{DSN: pg.DSN("postgres"), Databases: []string{"app"}, BehindColumnTTL: ttl, MaxConnsPerDatabase: 1})
	behind := func() float64 {
		s := scrapeTarget(t, target, 5*time.Second)
		s.requireSuccess(t, "sequence_behind_column")
		return s.value(t, "pg_database_sequences_behind_column", "datname", "app")
	}
	if v := behind(); v != 5 {
		t.Fatalf("behind = %v", v)
	}
	mustExec(t, pg, "app", "SELECT setval('t_setval_id_seq', 100)")
	if v := behind(); v != 5 {
		t.Errorf("within the TTL: behind = %v, want the cached 5", v)
	}
	time.Sleep(ttl)
	if v := behind(); v != 5 {
		t.Errorf("stale result not served while refreshing: behind = %v", v)
	}
	db, _ := target.database("app")
	deadline := time.Now().Add(5 * time.Second)
	for {
		db.behind.mu.Lock()
		running := db.behind.running
		db.behind.mu.Unlock()
		if running == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("refresh did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v := behind(); v != 4 {
		t.Errorf("after the refresh: behind = %v, want 4", v)
	}
}

// With no result yet, a scrape waits for the first behind-column check only
// until its deadline; the other collectors are not held up, and the check
// carries on for the next scrape.
func TestFirstBehindColumnCheckRespectsTheDeadline(t *testing.T) {
	t.Parallel()
	pg := plantedServer(t)
	// One connection per database: concurrent scrapes and the background
	// check must share it without deadlock.
	target := newTarget(t, Options{DSN: pg.DSN("postgres"), Databases: []string{"app"}, MaxConnsPerDatabase: 1})
	// Take both refresh slots, as two long refreshes of other databases
	// would: the check for "app" has to wait.
	for range cap(target.refreshSlots) {
		target.refreshSlots <- struct{}{}
	}
	const deadline = time.Second
	s := scrapeTarget(t, target, deadline)
	if s.took > deadline+500*time.Millisecond {
		t.Errorf("scrape took %s, deadline %s", s.took, deadline)
	}
	if v := s.value(t, "redline_collector_success", "collector", "sequence_behind_column"); v != 0 {
		t.Errorf("behind-column success = %v while its first check cannot run", v)
	}
	s.requireSuccess(t, "dead_tuples", "sequences", "connections", "clock_skew")

	for range cap(target.refreshSlots) {
		<-target.refreshSlots
	}
	// Two scrapes at once share the running check.
	done := make(chan *scraped, 2)
	for range 2 {
		go func() { done <- scrapeTarget(t, target, 10*time.Second) }()
	}
	for range 2 {
		s := <-done
		s.requireSuccess(t, allCollectors()...)
		if v := s.value(t, "pg_database_sequences_behind_column", "datname", "app"); v != float64(len(plantedBehind)) {
			t.Errorf("behind = %v", v)
		}
	}
}

// When refreshes fail, the last good result is still served (with its age
// and success 0) for a bounded time, and the refreshes back off instead of
// running on every scrape. The failure is real: the exporter's role loses
// SELECT on pg_sequence, so the owned-sequences query is refused.
func TestBehindColumnServesStaleResultWhileRefreshFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := plantedServer(t)
	// Grants rather than pg_read_all_data, which would also keep SELECT on
	// the catalogs.
	if err := pg.CreateRole(ctx, "reader", "reader-pw-1234", "IN ROLE pg_monitor"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, pg, "app", "GRANT USAGE ON SCHEMA other TO reader",
		"GRANT SELECT ON ALL TABLES IN SCHEMA public, other TO reader",
		"GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, other TO reader")
	// A refresh must finish well inside the TTL on a loaded machine; the
	// backoff is then one TTL (behindRetryBase is longer).
	const ttl = 2 * time.Second
	logs := &syncLog{}
	target, err := NewTarget(Options{DSN: pg.DSNFor("reader", "reader-pw-1234", "postgres"), Databases: []string{"app"},
		BehindColumnTTL: ttl}, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(target.Close)
	attempts := func() int { return strings.Count(logs.String(), "sequence-behind-column check failed") }
	scrape := func() (success float64, s *scraped) {
		s = scrapeTarget(t, target, 5*time.Second)
		return s.value(t, "redline_collector_success", "collector", "sequence_behind_column"), s
	}

	if ok, s := scrape(); ok != 1 || len(s.series("pg_sequence_behind_column")) != len(plantedBehind) {
		t.Fatalf("first check: success %v, anomalies %s", ok, fmtSeries(s.series("pg_sequence_behind_column")))
	}
	good := time.Now()
	mustExec(t, pg, "app", "REVOKE SELECT ON pg_catalog.pg_sequence FROM PUBLIC")
	time.Sleep(ttl)
	scrape() // serves the result, starts the refresh that fails
	for deadline := time.Now().Add(5 * time.Second); attempts() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("refresh did not fail; log:\n%s", logs.String())
		}
	}
	if strings.Contains(logs.String(), "reader-pw-1234") {
		t.Error("password in the log")
	}

	// Scrape often for a while: every scrape serves the stale anomalies and
	// reports the failure; refreshes run at most once per backoff (one TTL
	// here), not once per scrape.
	var scrapes int
	window := time.Now()
	for time.Since(window) < ttl+ttl/2 && time.Since(good) < (behindStaleTTLs-1)*ttl {
		ok, s := scrape()
		scrapes++
		if ok != 0 {
			t.Errorf("success = %v while refreshes fail", ok)
		}
		if got := s.series("pg_sequence_behind_column"); len(got) != len(plantedBehind) {
			t.Errorf("stale anomalies not served: %s", fmtSeries(got))
		}
		if age := s.value(t, "pg_database_sequences_behind_column_age_seconds", "datname", "app"); age < ttl.Seconds() {
			t.Errorf("age = %v, want at least the TTL", age)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The first retry is due one TTL after the first failure, at the end
	// of the window at the earliest: two failed refreshes at most, where
	// refreshing on every scrape would fail once per scrape.
	if n := attempts(); scrapes < 5 || n > 2 {
		t.Errorf("%d scrapes, %d failed refreshes: want many scrapes, few refreshes", scrapes, n)
	}

	// Past behindStaleTTLs TTLs the result no longer stands for the
	// database: its series go, the failure stays.
	time.Sleep(time.Until(good.Add(behindStaleTTLs*ttl + 100*time.Millisecond)))
	if ok, s := scrape(); ok != 0 || s.has("pg_sequence_behind_column") || s.has("pg_database_sequences_behind_column") {
		t.Errorf("too old a result served: success %v, %s", ok, fmtSeries(s.series("pg_sequence_behind_column")))
	}

	// Once the privilege is back, a retry succeeds within a backoff.
	mustExec(t, pg, "app", "GRANT SELECT ON pg_catalog.pg_sequence TO PUBLIC")
	for deadline := time.Now().Add(4 * ttl); ; time.Sleep(100 * time.Millisecond) {
		ok, s := scrape()
		if ok == 1 && len(s.series("pg_sequence_behind_column")) == len(plantedBehind) {
			if age := s.value(t, "pg_database_sequences_behind_column_age_seconds", "datname", "app"); age >= ttl.Seconds() {
				t.Errorf("age after recovery = %v", age)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery; log:\n%s", logs.String())
		}
	}
}

func TestBehindRetryDelay(t *testing.T) {
	for _, tc := range []struct {
		n    int
		ttl  time.Duration
		want time.Duration
	}{
		{1, 5 * time.Minute, 5 * time.Second},
		{2, 5 * time.Minute, 10 * time.Second},
		{5, 5 * time.Minute, 80 * time.Second},
		{7, 5 * time.Minute, 5 * time.Minute},
		{1000, 5 * time.Minute, 5 * time.Minute},
		{1, 2 * time.Second, 2 * time.Second},
	} {
		if got := behindRetryDelay(tc.n, tc.ttl); got != tc.want {
			t.Errorf("behindRetryDelay(%d, %s) = %s, want %s", tc.n, tc.ttl, got, tc.want)
		}
	}
}

// syncLog is a log that may be read while background work writes to it.
type syncLog struct {
	mu sync.Mutex
	sb strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.String()
}
