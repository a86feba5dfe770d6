package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/internal/demo"
	"github.com/redline-sre/redline/internal/testenv"
)

// peerQuery is one query of a dashboard or alert written for
// postgres_exporter or pgbouncer_exporter, copied as its mixin renders it
// (selectors left empty). recipe marks the ones that read names only
// docs/compat/peer-names.rules.yml records.
type peerQuery struct {
	from, expr string
	recipe     bool
}

// peerQueries are the peers' queries that docs/exporter.md promises work on
// redline. The list is data: adding a query here is adding a promise.
var peerQueries = []peerQuery{
	// grafana/jsonnet-libs pgbouncer-mixin: alerts.
	{from: "pgbouncer-mixin PGBouncerHighNumberClientWaitingConnections", expr: `pgbouncer_pools_client_waiting_connections{} > 20`},
	{from: "pgbouncer-mixin PGBouncerHighClientWaitTime", expr: `pgbouncer_pools_client_maxwait_seconds{} > 15`},
	{from: "pgbouncer-mixin PGBouncerHighServerConnectionSaturationWarning", expr: `100 * (sum without (database, user) (pgbouncer_pools_server_active_connections{} + pgbouncer_pools_server_idle_connections{} + pgbouncer_pools_server_used_connections{}) / clamp_min(pgbouncer_config_max_user_connections{},1)) > 80`},
	// pgbouncer-mixin: dashboard signals.
	{from: "pgbouncer-mixin queries processed", expr: `rate(pgbouncer_stats_queries_pooled_total{}[1m])`},
	{from: "pgbouncer-mixin average query duration", expr: `1000 * increase(pgbouncer_stats_queries_duration_seconds_total{}[1m]) / clamp_min(increase(pgbouncer_stats_queries_pooled_total{}[1m]), 1)`},
	{from: "pgbouncer-mixin average transaction duration", expr: `1000 * increase(pgbouncer_stats_server_in_transaction_seconds_total{}[1m]) / clamp_min(increase(pgbouncer_stats_sql_transactions_pooled_total{}[1m]), 1)`},
	{from: "pgbouncer-mixin network", expr: `rate(pgbouncer_stats_received_bytes_total{}[1m]) + rate(pgbouncer_stats_sent_bytes_total{}[1m])`},
	{from: "pgbouncer-mixin server connection states", expr: `pgbouncer_pools_server_login_connections{} + pgbouncer_pools_server_testing_connections{}`},
	{from: "pgbouncer-mixin client connections", expr: `pgbouncer_pools_client_active_connections{}`},
	{from: "pgbouncer-mixin database limits", expr: `pgbouncer_databases_max_connections{} + pgbouncer_databases_current_connections{}`},
	{from: "pgbouncer-mixin config limits", expr: `sum(pgbouncer_config_max_user_connections{}) + sum(pgbouncer_config_max_client_connections{})`},
	{from: "pgbouncer-mixin top databases", expr: `topk by(database, instance) (5, pgbouncer_pools_client_active_connections{})`},
	// pgbouncer_exporter's SHOW DATABASES labels and names.
	{from: "pgbouncer_exporter databases by entry", expr: `pgbouncer_databases_pool_size{name="app",database="postgres"} * on(name) group_left(pool_mode) pgbouncer_databases_paused{name="app"}`},
	{from: "pgbouncer_exporter reserve_pool", expr: `pgbouncer_databases_reserve_pool{name="app"}`},
	{from: "pgbouncer_exporter 0.11+ stats_totals", expr: `rate(pgbouncer_stats_totals_queries_pooled_total{}[1m])`, recipe: true},
	{from: "pgbouncer_exporter 0.11+ stats_totals wait", expr: `rate(pgbouncer_stats_totals_client_wait_seconds_total{}[1m])`, recipe: true},

	// prometheus-community/postgres_exporter postgres_mixin: alerts.
	{from: "postgres_mixin PostgreSQLMaxConnectionsReached", expr: `sum by (instance) (pg_stat_activity_count{}) >= sum by (instance) (pg_settings_max_connections{}) - sum by (instance) (pg_settings_superuser_reserved_connections{})`},
	{from: "postgres_mixin PostgreSQLHighConnections", expr: `sum by (instance) (pg_stat_activity_count{}) > (sum by (instance) (pg_settings_max_connections{}) - sum by (instance) (pg_settings_superuser_reserved_connections{})) * 0.8`},
	{from: "postgres_mixin PostgreSQLDown", expr: `pg_up{} != 1`},
	{from: "postgres_mixin PostgresHasTooManyDeadTuples", expr: `(sum without(relname) (pg_stat_user_tables_n_dead_tup{}) > 10000) / ((sum without(relname) (pg_stat_user_tables_n_live_tup{}) + sum without(relname)(pg_stat_user_tables_n_dead_tup{})) > 0) >= 0.1 unless on(instance) (pg_replication_is_replica{} == 1)`},
	{from: "postgres_mixin PostgresTablesNotVaccumed", expr: `group without(pod, instance)(timestamp(pg_stat_user_tables_n_dead_tup{} > pg_stat_user_tables_n_live_tup{} * on(namespace, job, service, instance, server) group_left pg_settings_autovacuum_vacuum_scale_factor{} + on(namespace, job, service, instance, server) group_left pg_settings_autovacuum_vacuum_threshold{}) < time() - 36000)`},
	// Widely copied "table not autovacuumed" alert (awesome-prometheus-alerts).
	{from: "PostgresqlTableNotAutoVacuumed", expr: `(pg_stat_user_tables_last_autovacuum > 0) and (time() - pg_stat_user_tables_last_autovacuum) > 60 * 60 * 24 * 10`, recipe: true},
}

// TestPeerQueriesReturnData runs the peers' queries on a real Prometheus
// scraping redline_exporter in front of real PostgreSQL and pgBouncer, and
// fails for every one that returns nothing: a rename or a dropped label can
// no longer break them silently. An alert's comparisons get the bool
// modifier, so a healthy system (where the alert is silent) still shows
// whether both sides of every comparison and join have series.
func TestPeerQueriesReturnData(t *testing.T) {
	for _, bin := range []string{"initdb", "pgbouncer", "prometheus"} {
		testenv.Binary(t, bin)
	}
	ctx := context.Background()
	// Autovacuum on and eager, so a table is autovacuumed within seconds
	// and the last-autovacuum recipe has something to turn into a time.
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{Autovacuum: true, Settings: map[string]string{
		"autovacuum_naptime":             "1",
		"autovacuum_vacuum_threshold":    "10",
		"autovacuum_vacuum_scale_factor": "0.01",
	}})
	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := demo.PlantDeadTuples(ctx, pg.DSN("app"), "orders", 2000); err != nil {
		t.Fatal(err)
	}
	pb := testenv.NewPgBouncer(t, pg, testenv.PgBouncerOptions{
		Databases: []testenv.PgBouncerDatabase{{Name: "app", DBName: "postgres", PoolSize: 2}},
	})

	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	exporterURL := "http://127.0.0.1:" + strconv.Itoa(port)
	exporter, err := testenv.StartCommand("redline_exporter", exporterBin, []string{
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
	}, []string{
		"REDLINE_POSTGRES_DSN=" + pg.DSN("postgres"),
		"REDLINE_PGBOUNCER_DSN=" + pb.StatsDSN(),
	}, exporterURL+"/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exporter.Stop() })

	recipe, err := filepath.Abs("../docs/compat/peer-names.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{
		Scrape:    []testenv.ScrapeTarget{{Job: "redline", Targets: []string{"127.0.0.1:" + strconv.Itoa(port)}}},
		RuleFiles: []string{recipe},
	})

	// Traffic through the pool, so pgBouncer's counters move.
	conn, err := pgx.Connect(ctx, pb.DSN(pg.User, pg.Password, "app"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	pending := map[string]string{}
	for _, q := range peerQueries {
		probe, err := withBool(q.expr)
		if err != nil {
			t.Fatalf("%s: %v", q.from, err)
		}
		pending[q.from] = probe
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(pending) > 0 && time.Now().Before(deadline) {
		if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		for from, probe := range pending {
			if v, ok := query(t, prom.URL, probe); ok && len(v) > 0 {
				delete(pending, from)
			}
		}
		time.Sleep(time.Second)
	}
	for _, q := range peerQueries {
		if probe, left := pending[q.from]; left {
			t.Errorf("%s returns no data on redline (recipe needed: %v):\n  %s", q.from, q.recipe, probe)
		}
	}
	if t.Failed() {
		t.Logf("exporter log:\n%s", exporter.Log())
	}
}

// withBool gives every comparison of expr the bool modifier: the result is
// 0 or 1 for each pair that matched instead of only the pairs beyond the
// threshold, so a query "returns data" exactly when its series and joins do.
func withBool(expr string) (string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return "", fmt.Errorf("not PromQL: %w", err)
	}
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if b, ok := n.(*parser.BinaryExpr); ok && b.Op.IsComparisonOperator() {
			b.ReturnBool = true
		}
		return nil
	})
	return e.String(), nil
}
