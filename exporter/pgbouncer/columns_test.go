package pgbouncer

import (
	"strings"
	"testing"
)

// These tests use a FAKE: hand-written result rows with the column sets of
// pgBouncer releases that cannot be installed here (an old 1.7, and
// 1.24+ as its documentation, doc/usage.md, lists them). The real 1.18 is covered against a
// running pgBouncer in pgbouncer_test.go. They check the name-based column
// mapping: unknown columns ignored, missing columns leave their series out,
// renamed columns (reserve_pool → reserve_pool_size) read under either name.

// table builds rows from a header of column names and lines of values;
// "NULL" stands for a NULL value.
func table(header string, lines ...string) []row {
	cols := strings.Fields(header)
	var out []row
	for _, l := range lines {
		r := row{}
		for i, v := range strings.Fields(l) {
			if v != "NULL" {
				r[cols[i]] = v
			}
		}
		out = append(out, r)
	}
	return out
}

const (
	// pgBouncer 1.7: no maxwait_us, no cancel-request columns, no min_pool_size.
	oldPools = "database user cl_active cl_waiting sv_active sv_idle sv_used sv_tested sv_login maxwait pool_mode"
	oldDBs   = "name host port database force_user pool_size reserve_pool pool_mode max_connections current_connections paused disabled"
	oldUsers = "name pool_mode"
	oldStats = "database total_requests total_received total_sent total_query_time avg_req avg_recv avg_sent avg_query"

	// pgBouncer 1.24+, from the documentation (doc/usage.md).
	newPools = "database user cl_active cl_waiting cl_active_cancel_req cl_waiting_cancel_req sv_active sv_active_cancel sv_being_canceled sv_idle sv_used sv_tested sv_login maxwait maxwait_us pool_mode load_balance_hosts"
	newDBs   = "name host port database force_user pool_size min_pool_size reserve_pool_size server_lifetime pool_mode load_balance_hosts max_connections current_connections max_client_connections current_client_connections paused disabled"
	newUsers = "name pool_size reserve_pool_size pool_mode max_user_connections current_connections max_user_client_connections current_client_connections"
	newStats = "database total_server_assignment_count total_xact_count total_query_count total_received total_sent total_xact_time total_query_time total_wait_time total_client_parse_count total_server_parse_count total_bind_count avg_server_assignment_count avg_xact_count avg_query_count avg_recv avg_sent avg_xact_time avg_query_time avg_wait_time avg_client_parse_count avg_server_parse_count avg_bind_count"
)

func TestPoolColumnsByVersion(t *testing.T) {
	for _, tc := range []struct {
		name        string
		pools, dbs  []row
		users       []row
		want        map[string]float64
		wantMissing []string
	}{
		{
			name:  "1.7",
			pools: table(oldPools, "app alice 3 2 4 0 0 0 0 7 transaction"),
			dbs:   table(oldDBs, "app 10.0.0.1 5432 app NULL 4 0 transaction 0 4 0 0"),
			users: table(oldUsers, "alice NULL"),
			want: map[string]float64{
				`pgbouncer_pools_client_active_connections{database="app",user="alice"}`:  3,
				`pgbouncer_pools_client_waiting_connections{database="app",user="alice"}`: 2,
				`pgbouncer_pools_server_active_connections{database="app",user="alice"}`:  4,
				`pgbouncer_pools_client_maxwait_seconds{database="app",user="alice"}`:     7,
				`pgbouncer_pool_saturation_ratio{database="app",user="alice"}`:            1,
				`pgbouncer_pool_effective_size{database="app",user="alice"}`:              4,
			},
			wantMissing: []string{
				`pgbouncer_pools_client_active_cancel_connections{database="app",user="alice"}`,
				`pgbouncer_pools_server_being_canceled_connections{database="app",user="alice"}`,
			},
		},
		{
			name: "1.24 with a per-user pool_size override",
			pools: table(newPools,
				"app alice 5 1 0 0 2 1 0 0 0 0 0 1 250000 transaction NULL",
				"app bob 1 0 0 0 1 0 0 3 0 0 0 0 0 transaction NULL"),
			dbs:   table(newDBs, "app 10.0.0.1 5432 app NULL 8 0 2 3600 NULL NULL 0 5 0 6 0 0"),
			users: table(newUsers, "alice 2 NULL NULL 0 2 0 6", "bob NULL NULL NULL 0 4 0 1"),
			want: map[string]float64{
				`pgbouncer_pools_client_waiting_connections{database="app",user="alice"}`:        1,
				`pgbouncer_pools_server_active_cancel_connections{database="app",user="alice"}`:  1,
				`pgbouncer_pools_client_maxwait_seconds{database="app",user="alice"}`:            1.25,
				`pgbouncer_pool_saturation_ratio{database="app",user="alice"}`:                   1,     // 2 of alice's own 2
				`pgbouncer_pool_effective_size{database="app",user="alice"}`:                     2,     // SHOW USERS override
				`pgbouncer_pool_saturation_ratio{database="app",user="bob"}`:                     0.125, // 1 of the database's 8
				`pgbouncer_pool_effective_size{database="app",user="bob"}`:                       8,
				`pgbouncer_pools_server_idle_connections{database="app",user="bob"}`:             3,
				`pgbouncer_pools_client_waiting_cancel_connections{database="app",user="alice"}`: 0,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := index(t, poolMetrics(tc.pools, poolSizes(tc.dbs, tc.users)))
			for k, want := range tc.want {
				if got := s.get(t, k); got != want {
					t.Errorf("%s = %g, want %g", k, got, want)
				}
			}
			for _, k := range tc.wantMissing {
				if _, ok := s[k]; ok {
					t.Errorf("%s present, but this release has no such column", k)
				}
			}
		})
	}
}

func TestDatabaseColumnsByVersion(t *testing.T) {
	oldKey := `{database="app",force_user="",host="10.0.0.1",name="app",pool_mode="transaction",port="5432"}`
	old := index(t, databaseMetrics(table(oldDBs, "app 10.0.0.1 5432 app NULL 4 1 transaction 0 4 1 0")))
	for _, name := range []string{"reserve_pool", "reserve_pool_size"} {
		if got := old.get(t, "pgbouncer_databases_"+name+oldKey); got != 1 {
			t.Errorf("1.7 reserve_pool read into %s as %g, want 1", name, got)
		}
	}
	if got := old.get(t, "pgbouncer_databases_paused"+oldKey); got != 1 {
		t.Errorf("1.7 paused = %g, want 1", got)
	}
	if _, ok := old["pgbouncer_databases_min_pool_size"+oldKey]; ok {
		t.Error("1.7 has no min_pool_size column, but the series is present")
	}
	// An alias for another backend database, with a forced user: name and
	// database tell them apart, as in pgbouncer_exporter.
	curKey := `{database="appdb",force_user="svc",host="10.0.0.1",name="app",pool_mode="session",port="6432"}`
	cur := index(t, databaseMetrics(table(newDBs, "app 10.0.0.1 6432 appdb svc 8 2 3 3600 session NULL 50 6 100 12 0 0")))
	for k, want := range map[string]float64{
		"pool_size":                  8,
		"min_pool_size":              2,
		"reserve_pool":               3,
		"reserve_pool_size":          3,
		"max_connections":            50,
		"current_connections":        6,
		"max_client_connections":     100,
		"current_client_connections": 12,
	} {
		if got := cur.get(t, "pgbouncer_databases_"+k+curKey); got != want {
			t.Errorf("1.24 %s = %g, want %g", k, got, want)
		}
	}
}

func TestStatsColumnsByVersion(t *testing.T) {
	// 1.7 counted total_requests, not total_query_count/total_xact_count:
	// those series are absent rather than wrong.
	old := index(t, statsMetrics(table(oldStats, "app 10 2048 4096 3000000 1 1 1 1")))
	if got := old.get(t, `pgbouncer_stats_queries_duration_seconds_total{database="app"}`); got != 3 {
		t.Errorf("1.7 total_query_time 3000000us read as %g s, want 3", got)
	}
	if _, ok := old[`pgbouncer_stats_queries_pooled_total{database="app"}`]; ok {
		t.Error("1.7 has no total_query_count, but the series is present")
	}
	cur := index(t, statsMetrics(table(newStats, "app 7 5 9 100 200 1500000 500000 250000 11 4 13 1 1 1 1 1 1 1 1 0 0 0")))
	for k, want := range map[string]float64{
		`pgbouncer_stats_server_assignments_total{database="app"}`:            7,
		`pgbouncer_stats_sql_transactions_pooled_total{database="app"}`:       5,
		`pgbouncer_stats_queries_pooled_total{database="app"}`:                9,
		`pgbouncer_stats_received_bytes_total{database="app"}`:                100,
		`pgbouncer_stats_server_in_transaction_seconds_total{database="app"}`: 1.5,
		`pgbouncer_stats_queries_duration_seconds_total{database="app"}`:      0.5,
		`pgbouncer_stats_client_wait_seconds_total{database="app"}`:           0.25,
		`pgbouncer_stats_client_parses_total{database="app"}`:                 11,
		`pgbouncer_stats_server_parses_total{database="app"}`:                 4,
		`pgbouncer_stats_binds_total{database="app"}`:                         13,
	} {
		if got := cur.get(t, k); got != want {
			t.Errorf("1.24 %s = %g, want %g", k, got, want)
		}
	}
}

func TestClientRatioBothListShapes(t *testing.T) {
	config := table("key value default changeable", "max_client_conn 200 100 yes", "default_pool_size 20 20 yes", "max_user_connections 40 0 yes")
	for name, lists := range map[string][]row{
		"rows (1.18)":      table("list items", "databases 3", "used_clients 50", "free_clients 10"),
		"one row, columns": table("databases users pools free_clients used_clients", "3 2 2 10 50"),
	} {
		t.Run(name, func(t *testing.T) {
			ms, err := clientMetrics(config, lists)
			if err != nil {
				t.Fatal(err)
			}
			s := index(t, ms)
			if got := s.get(t, "pgbouncer_client_connections_ratio{}"); got != 0.25 {
				t.Errorf("ratio = %g, want 50/200", got)
			}
			if got := s.get(t, "pgbouncer_config_max_user_connections{}"); got != 40 {
				t.Errorf("max_user_connections = %g, want 40", got)
			}
		})
	}
	if _, err := clientMetrics(config, table("list items", "databases 3")); err == nil {
		t.Error("missing used_clients: no error")
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]string{
		"PgBouncer 1.18.0":                  "1.18.0",
		"PgBouncer 1.24.1\nlibevent 2.1.12": "1.24.1",
		"1.9.0":                             "1.9.0",
	} {
		if got := parseVersion(in); got != want {
			t.Errorf("parseVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

// A database or user name that is not UTF-8 cannot be a label value: its
// rows are left out, the others are served, nothing panics.
func TestNonUTF8NamesAreSkipped(t *testing.T) {
	pools := []row{
		{"database": "app", "user": "u", "cl_active": "1"},
		{"database": "bad\xff", "user": "u", "cl_active": "2"},
		{"database": "app", "user": "bad\xfe", "cl_active": "3"},
	}
	if ms := poolMetrics(pools, sizes{}); len(ms) != 1 {
		t.Errorf("pools: %d series, want 1 (the valid row's)", len(ms))
	}
	dbs := []row{{"name": "app", "pool_size": "5"}, {"name": "bad\xff", "pool_size": "5"}}
	if ms := databaseMetrics(dbs); len(ms) != 1 {
		t.Errorf("databases: %d series, want 1", len(ms))
	}
	stats := []row{{"database": "app", "total_query_count": "5"}, {"database": "bad\xff", "total_query_count": "5"}}
	if ms := statsMetrics(stats); len(ms) != 1 {
		t.Errorf("stats: %d series, want 1", len(ms))
	}
}
