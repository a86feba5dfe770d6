package pgbouncer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/internal/testenv"
)

// env is a real PostgreSQL with a real pgBouncer in front.
type env struct {
	pg *testenv.Postgres
	pb *testenv.PgBouncer
}

// sharedPG is one PostgreSQL for the whole package: initdb is the slow part
// of a test environment, and every test gets its own pgBouncer anyway (the
// fault tests stop and freeze pgBouncer, never PostgreSQL).
var sharedPG testenv.SharedPostgres

func TestMain(m *testing.M) {
	code := m.Run()
	sharedPG.Stop()
	os.Exit(code)
}

func newEnv(t testing.TB, opts testenv.PgBouncerOptions) env {
	t.Helper()
	pg := sharedPG.Get(t)
	return env{pg: pg, pb: testenv.NewPgBouncer(t, pg, opts)}
}

func newTarget(t testing.TB, dsn string, logger *slog.Logger) *Target {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	target, err := NewTarget(Options{DSN: dsn}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(target.Close)
	return target
}

// scrape is what one scrape of the target returns, by series.
type scrape map[string]float64

// collect runs one collection with a deadline and indexes the result as
// `name{label="value",...}` (labels sorted).
func collect(t testing.TB, target *Target, timeout time.Duration) scrape {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch := make(chan prometheus.Metric)
	go func() {
		target.Collect(ctx, ch)
		close(ch)
	}()
	var ms []prometheus.Metric
	for m := range ch {
		ms = append(ms, m)
	}
	return index(t, ms)
}

// index keys metrics as `name{label="value",...}` (labels sorted).
func index(t testing.TB, ms []prometheus.Metric) scrape {
	t.Helper()
	out := scrape{}
	for _, m := range ms {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		name := metricName(m.Desc())
		var labels []string
		for _, l := range pb.GetLabel() {
			labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
		}
		sort.Strings(labels)
		key := name + "{" + strings.Join(labels, ",") + "}"
		if _, dup := out[key]; dup {
			t.Errorf("series %s sent twice", key)
		}
		switch {
		case pb.Gauge != nil:
			out[key] = pb.GetGauge().GetValue()
		case pb.Counter != nil:
			out[key] = pb.GetCounter().GetValue()
		}
	}
	return out
}

// metricName digs the fully-qualified name out of a Desc's String form.
func metricName(d *prometheus.Desc) string {
	s := d.String()
	i := strings.Index(s, `fqName: "`) + len(`fqName: "`)
	return s[i : i+strings.Index(s[i:], `"`)]
}

func (s scrape) get(t testing.TB, key string) float64 {
	t.Helper()
	v, ok := s[key]
	if !ok {
		t.Fatalf("series %s missing; have:\n%s", key, s)
	}
	return v
}

func (s scrape) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s %g\n", k, s[k])
	}
	return b.String()
}

// TestSaturation holds more transactions open than one pool's pool_size
// and checks the waiting clients and the saturation ratio of that pool
// against an idle one, then that the traffic counters rise.
func TestSaturation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, testenv.PgBouncerOptions{
		PoolMode:        "transaction",
		DefaultPoolSize: 5,
		Databases: []testenv.PgBouncerDatabase{
			{Name: "busy", DBName: "postgres", PoolSize: 2},
			{Name: "quiet", DBName: "postgres", PoolSize: 3},
			{Name: "plain", DBName: "postgres"},
		},
	})
	target := newTarget(t, e.pb.StatsDSN(), nil)

	connect := func(db string) *pgx.Conn {
		c, err := pgx.Connect(ctx, e.pb.DSN(e.pg.User, e.pg.Password, db))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	// The quiet pool exists but has nothing in flight.
	if _, err := connect("quiet").Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	before := collect(t, target, 10*time.Second)

	// Two transactions take both server connections of "busy"...
	var holders []*pgx.Conn
	for range 2 {
		c := connect("busy")
		if _, err := c.Exec(ctx, "BEGIN; SELECT 1"); err != nil {
			t.Fatal(err)
		}
		holders = append(holders, c)
	}
	// ...so a third client waits for one.
	waiter := connect("busy")
	waited := make(chan error, 1)
	go func() {
		_, err := waiter.Exec(ctx, "SELECT 1")
		waited <- err
	}()

	var s scrape
	deadline := time.Now().Add(10 * time.Second)
	for {
		s = collect(t, target, 10*time.Second)
		if s[`pgbouncer_pools_client_waiting_connections{database="busy",user="postgres"}`] >= 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	busy := `{database="busy",user="postgres"}`
	quiet := `{database="quiet",user="postgres"}`
	if got := s.get(t, "pgbouncer_pools_client_waiting_connections"+busy); got < 1 {
		t.Errorf("busy pool: client_waiting = %g, want >= 1", got)
	}
	if got := s.get(t, "pgbouncer_pools_server_active_connections"+busy); got != 2 {
		t.Errorf("busy pool: server_active = %g, want 2", got)
	}
	if got := s.get(t, "pgbouncer_pool_saturation_ratio"+busy); got != 1 {
		t.Errorf("busy pool: saturation = %g, want 1", got)
	}
	if got := s.get(t, "pgbouncer_pool_saturation_ratio"+quiet); got != 0 {
		t.Errorf("quiet pool: saturation = %g, want 0", got)
	}
	if got := s.get(t, "pgbouncer_pool_effective_size"+quiet); got != 3 {
		t.Errorf("quiet pool: effective size = %g, want its pool_size 3", got)
	}
	if got := s.get(t, "pgbouncer_pools_client_maxwait_seconds"+busy); got <= 0 {
		t.Errorf("busy pool: maxwait = %g, want > 0 while a client waits", got)
	}
	// SHOW DATABASES series carry pgbouncer_exporter's labels: name is the
	// entry clients connect to, database the server's database behind it.
	for db, want := range map[string]float64{"busy": 2, "quiet": 3, "plain": 5} {
		key := fmt.Sprintf(`pgbouncer_databases_pool_size{database="postgres",force_user="",host=%q,name=%q,pool_mode="",port="%d"}`, e.pg.Host, db, e.pg.Port)
		if got := s.get(t, key); got != want {
			t.Errorf("database %s: pool_size = %g, want %g", db, got, want)
		}
	}
	if got := s.get(t, "pgbouncer_config_max_user_connections{}"); got != 0 {
		t.Errorf("max_user_connections = %g, want the default 0 (unlimited)", got)
	}
	if s.get(t, "pgbouncer_up{}") != 1 || s.get(t, `pgbouncer_version_info{version="`+strings.TrimPrefix(e.pb.Version, "PgBouncer ")+`"}`) != 1 {
		t.Errorf("up/version wrong:\n%s", s)
	}
	// Three clients of busy, one of quiet and the exporter's own at least:
	// every one counts against max_client_conn (100).
	used := s.get(t, "pgbouncer_used_clients{}")
	if used < 5 || used > 10 {
		t.Errorf("used_clients = %g, want 5..10", used)
	}
	if got := s.get(t, "pgbouncer_client_connections_ratio{}"); got != used/100 {
		t.Errorf("client_connections_ratio = %g, want used_clients/max_client_conn = %g", got, used/100)
	}
	if got := s.get(t, "pgbouncer_config_max_client_connections{}"); got != 100 {
		t.Errorf("max_client_connections = %g, want 100", got)
	}
	for _, c := range []string{CollectorPools, CollectorDatabases, CollectorStats, CollectorClients} {
		if got := s.get(t, fmt.Sprintf("redline_collector_success{collector=%q}", c)); got != 1 {
			t.Errorf("collector %s failed", c)
		}
	}
	// Ending the transactions lets the waiting client through.
	for _, c := range holders {
		if _, err := c.Exec(ctx, "COMMIT"); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-waited; err != nil {
		t.Fatalf("waiting client: %v", err)
	}

	// Stats counters rise with the traffic: pgBouncer updates its totals
	// when a transaction ends.
	for range 5 {
		if _, err := connect("quiet").Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
	}
	q := `{database="quiet"}`
	deadline = time.Now().Add(5 * time.Second)
	for {
		s = collect(t, target, 10*time.Second)
		if s["pgbouncer_stats_queries_pooled_total"+q] >= before["pgbouncer_stats_queries_pooled_total"+q]+5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, m := range []string{"pgbouncer_stats_queries_pooled_total", "pgbouncer_stats_sql_transactions_pooled_total", "pgbouncer_stats_queries_duration_seconds_total", "pgbouncer_stats_received_bytes_total"} {
		if after, was := s.get(t, m+q), before.get(t, m+q); after <= was {
			t.Errorf("%s did not rise: %g -> %g", m, was, after)
		}
	}
}

// TestSteadyStateNoNewLogins proves that scrapes reuse the pool's
// connections: after the first scrape, pgBouncer sees the same exporter
// client connections (by port) however many scrapes follow, even with more
// than a second between them (when pgxpool would otherwise ping with a
// command the console rejects and reconnect).
func TestSteadyStateNoNewLogins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.PgBouncerOptions{})
	target := newTarget(t, e.pb.StatsDSN(), nil)
	collect(t, target, 10*time.Second)
	first := exporterClients(t, e.pb)
	for i := range 3 {
		if i == 1 {
			time.Sleep(1200 * time.Millisecond)
		}
		if s := collect(t, target, 10*time.Second); s.get(t, "pgbouncer_up{}") != 1 {
			t.Fatalf("scrape %d: pgbouncer_up = 0", i)
		}
	}
	if later := exporterClients(t, e.pb); !equal(first, later) {
		t.Errorf("exporter client connections changed between scrapes: %v -> %v", first, later)
	}
	if n := target.Stat().NewConnsCount(); n > DefaultMaxConnections {
		t.Errorf("pool opened %d connections, want at most %d", n, DefaultMaxConnections)
	}
}

// exporterClients lists the client ports of the exporter's connections as
// pgBouncer sees them (SHOW CLIENTS, by application_name).
func exporterClients(t *testing.T, pb *testenv.PgBouncer) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, pb.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	ports, err := clientPorts(c)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

func clientPorts(admin *pgx.Conn) ([]string, error) {
	res, err := admin.PgConn().Exec(context.Background(), "SHOW CLIENTS").ReadAll()
	if err != nil {
		return nil, err
	}
	var ports []string
	for _, r := range res {
		idx := map[string]int{}
		for i, f := range r.FieldDescriptions {
			idx[f.Name] = i
		}
		for _, row := range r.Rows {
			if string(row[idx["application_name"]]) == ApplicationName {
				ports = append(ports, string(row[idx["port"]]))
			}
		}
	}
	sort.Strings(ports)
	return ports, nil
}

func equal(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

// BenchmarkCollect measures one full collection (SHOW VERSION plus every
// collector's commands) against a real pgBouncer over loopback, on warm
// pool connections.
func BenchmarkCollect(b *testing.B) {
	e := newEnv(b, testenv.PgBouncerOptions{})
	target := newTarget(b, e.pb.StatsDSN(), nil)
	collect(b, target, 10*time.Second)
	b.ReportAllocs()
	for b.Loop() {
		if s := collect(b, target, 10*time.Second); s["pgbouncer_up{}"] != 1 {
			b.Fatal("pgbouncer_up = 0")
		}
	}
}

// TestDisabledCollector: --no-collector.pgbouncer_stats leaves SHOW STATS
// out of the scrape. It flips global flag state, so it is not parallel
// (parallel tests start only after it has finished and restored the flag).
func TestDisabledCollector(t *testing.T) {
	collector.SetEnabled(CollectorStats, false)
	defer collector.SetEnabled(CollectorStats, true)
	e := newEnv(t, testenv.PgBouncerOptions{})
	s := collect(t, newTarget(t, e.pb.StatsDSN(), nil), 10*time.Second)
	for k := range s {
		if strings.HasPrefix(k, "pgbouncer_stats_") || strings.Contains(k, CollectorStats) {
			t.Errorf("disabled collector still reported: %s", k)
		}
	}
	s.get(t, `redline_collector_success{collector="pgbouncer_pools"}`)
}
