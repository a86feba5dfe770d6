package pgbouncer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// The drift tests run the exporter against a MOCK pgBouncer admin console:
// no build of pgBouncer 1.16 through 1.25 can be installed here (Debian has
// one release, which pgbouncer_test.go tests for real). The mock speaks the
// part of pgBouncer's protocol the exporter uses — a startup without a
// password, the simple query protocol, RowDescription, DataRow,
// CommandComplete — and answers each SHOW with the exact columns, in order,
// of one release, as read from that release's source
// (testdata/show_columns.txt). The values come from one scene, by column
// name, so each release's answer says the same thing in its own columns.

// mockColumn is one column of a release's answer.
type mockColumn struct{ name, typ string }

// releaseColumns reads testdata/show_columns.txt: release → command →
// columns.
func releaseColumns(t testing.TB) map[string]map[string][]mockColumn {
	t.Helper()
	f, err := os.Open("testdata/show_columns.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string][]mockColumn{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		head, cols, ok := strings.Cut(line, ": ")
		release, command, ok2 := strings.Cut(head, " ")
		if !ok || !ok2 {
			t.Fatalf("testdata/show_columns.txt: bad line %q", line)
		}
		if out[release] == nil {
			out[release] = map[string][]mockColumn{}
		}
		for _, c := range strings.Fields(cols) {
			name, typ, _ := strings.Cut(c, ":")
			out[release][command] = append(out[release][command], mockColumn{name, typ})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// null marks a NULL value in the scene.
const null = "\x00NULL"

// mockScene is what the mock pgBouncer holds: one pool (app/alice) busy
// with prepared statements, and the admin console's own. A column a row
// does not name gets a neutral value of its type.
func mockScene(minor int) map[string][]map[string]string {
	config := []map[string]string{
		{"key": "max_client_conn", "value": "200"},
		{"key": "default_pool_size", "value": "20"},
		{"key": "max_user_connections", "value": "40"},
	}
	if minor >= 21 { // max_prepared_statements is new in 1.21
		config = append(config, map[string]string{"key": "max_prepared_statements", "value": "100"})
	}
	return map[string][]map[string]string{
		"SHOW VERSION": {{"version": fmt.Sprintf("PgBouncer 1.%d.0", minor)}},
		"SHOW POOLS": {
			{"database": "app", "user": "alice", "cl_active": "3", "cl_waiting": "1", "cl_cancel_req": "4", "cl_waiting_cancel_req": "4",
				"sv_active": "2", "sv_idle": "1", "maxwait": "1", "maxwait_us": "500000", "pool_mode": "transaction", "load_balance_hosts": null},
			{"database": "pgbouncer", "user": "pgbouncer", "pool_mode": "statement", "load_balance_hosts": null},
		},
		"SHOW DATABASES": {
			{"name": "app", "host": "127.0.0.1", "port": "5432", "database": "app", "force_user": null, "pool_size": "8",
				"reserve_pool": "2", "reserve_pool_size": "2", "pool_mode": "transaction", "load_balance_hosts": null,
				"max_connections": "50", "current_connections": "6", "max_client_connections": "100", "current_client_connections": "12"},
			{"name": "pgbouncer", "host": null, "port": "6432", "database": "pgbouncer", "force_user": "pgbouncer", "pool_size": "2",
				"pool_mode": "statement", "load_balance_hosts": null},
		},
		"SHOW USERS": {
			{"name": "alice", "pool_size": "4", "reserve_pool_size": "", "pool_mode": null, "max_user_connections": "40",
				"current_connections": "3", "max_user_client_connections": "60", "current_client_connections": "9"},
		},
		"SHOW STATS": {
			{"database": "app", "total_server_assignment_count": "7", "total_xact_count": "5", "total_query_count": "9",
				"total_received": "100", "total_sent": "200", "total_query_time": "500000", "total_wait_time": "250000",
				"total_client_parse_count": "11", "total_server_parse_count": "4", "total_bind_count": "13"},
		},
		"SHOW CONFIG": config,
		"SHOW LISTS": {
			{"list": "databases", "items": "2"}, {"list": "used_clients", "items": "50"}, {"list": "free_clients", "items": "10"},
		},
		"SHOW SERVERS": {
			{"type": "S", "user": "alice", "database": "app", "state": "active", "prepared_statements": "3"},
			{"type": "S", "user": "alice", "database": "app", "state": "idle", "prepared_statements": "7"},
		},
		"SHOW CLIENTS": {
			{"type": "C", "user": "alice", "database": "app", "state": "active", "prepared_statements": "5"},
			{"type": "C", "user": "stats", "database": "pgbouncer", "state": "active", "prepared_statements": "0"},
		},
	}
}

// mockConsole serves one release's column sets on a loopback port.
type mockConsole struct {
	ln      net.Listener
	columns map[string][]mockColumn
	scene   map[string][]map[string]string
	wg      sync.WaitGroup
}

// newMockConsole starts a mock console answering with columns; it stops
// when the test ends.
func newMockConsole(t testing.TB, columns map[string][]mockColumn, scene map[string][]map[string]string) *mockConsole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mockConsole{ln: ln, columns: columns, scene: scene}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				defer conn.Close()
				if err := m.serve(conn); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
					t.Logf("mock console: %v", err)
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		m.wg.Wait()
	})
	return m
}

func (m *mockConsole) dsn() string {
	return fmt.Sprintf("postgres://stats@%s/pgbouncer?sslmode=disable", m.ln.Addr())
}

func (m *mockConsole) serve(conn net.Conn) error {
	be := pgproto3.NewBackend(conn, conn)
	msg, err := be.ReceiveStartupMessage()
	if err != nil {
		return err
	}
	if _, ok := msg.(*pgproto3.StartupMessage); !ok {
		return fmt.Errorf("startup: got %T", msg)
	}
	// The console trusts this user (auth_type = trust in pgBouncer terms).
	be.Send(&pgproto3.AuthenticationOk{})
	be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "1.25.0/bouncer"})
	be.Send(&pgproto3.BackendKeyData{ProcessID: 1, SecretKey: []byte{0, 0, 0, 1}})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := be.Flush(); err != nil {
		return err
	}
	for {
		msg, err := be.Receive()
		if err != nil {
			return err
		}
		switch q := msg.(type) {
		case *pgproto3.Terminate:
			return nil
		case *pgproto3.Query:
			m.answer(be, strings.ToUpper(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(q.String), ";"))))
		default:
			// The console knows only the simple query protocol.
			be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "08P01", Message: fmt.Sprintf("unsupported pkt type: %T", msg)})
			be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		}
		if err := be.Flush(); err != nil {
			return err
		}
	}
}

func (m *mockConsole) answer(be *pgproto3.Backend, command string) {
	cols, ok := m.columns[command]
	if !ok {
		be.Send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "08P01", Message: "invalid command '" + command + "', use SHOW HELP;"})
		be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		return
	}
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, c := range cols {
		fields[i] = pgproto3.FieldDescription{Name: []byte(c.name), DataTypeOID: typeOID(c.typ), DataTypeSize: -1, TypeModifier: -1}
	}
	be.Send(&pgproto3.RowDescription{Fields: fields})
	rows := m.scene[command]
	for _, r := range rows {
		values := make([][]byte, len(cols))
		for i, c := range cols {
			v, set := r[c.name]
			switch {
			case set && v == null:
				values[i] = nil
			case set:
				values[i] = []byte(v)
			default:
				values[i] = []byte(neutral(c.typ))
			}
		}
		be.Send(&pgproto3.DataRow{Values: values})
	}
	be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SHOW")})
	be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
}

// typeOID is the type pgBouncer announces for a format letter.
func typeOID(typ string) uint32 {
	switch typ {
	case "i":
		return 23 // int4
	case "q":
		return 20 // int8
	case "N":
		return 1700 // numeric
	case "T":
		return 1184 // timestamptz
	default:
		return 25 // text
	}
}

func neutral(typ string) string {
	switch typ {
	case "i", "q", "N":
		return "0"
	case "T":
		return "2026-01-01 00:00:00 UTC"
	default:
		return "x"
	}
}

// minorOf is 21 for "1.21".
func minorOf(t testing.TB, release string) int {
	_, m, _ := strings.Cut(release, ".")
	n, err := strconv.Atoi(m)
	if err != nil {
		t.Fatalf("release %q", release)
	}
	return n
}

const (
	appPool = `{database="app",user="alice"}`
	appDB   = `{database="app",force_user="",host="127.0.0.1",name="app",pool_mode="transaction",port="5432"}`
)

// driftExpectations are the series the scene must give, each from the
// release that first has its column (0: every release), with its value.
var driftExpectations = []struct {
	key   string
	since int
	value float64
}{
	{"pgbouncer_up{}", 0, 1},
	{"pgbouncer_pools_client_active_connections" + appPool, 0, 3},
	{"pgbouncer_pools_client_waiting_connections" + appPool, 0, 1},
	// cl_cancel_req (1.16, 1.17) and cl_waiting_cancel_req (1.18+).
	{"pgbouncer_pools_client_waiting_cancel_connections" + appPool, 0, 4},
	{"pgbouncer_pools_client_active_cancel_connections" + appPool, 18, 0},
	{"pgbouncer_pools_server_being_canceled_connections" + appPool, 18, 0},
	{"pgbouncer_pools_server_active_connections" + appPool, 0, 2},
	{"pgbouncer_pools_client_maxwait_seconds" + appPool, 0, 1.5},
	{"pgbouncer_databases_pool_size" + appDB, 0, 8},
	// reserve_pool (to 1.23) and reserve_pool_size (1.24+).
	{"pgbouncer_databases_reserve_pool" + appDB, 0, 2},
	{"pgbouncer_databases_current_connections" + appDB, 0, 6},
	{"pgbouncer_databases_max_client_connections" + appDB, 24, 100},
	{"pgbouncer_databases_current_client_connections" + appDB, 24, 12},
	{`pgbouncer_users_max_user_connections{user="alice"}`, 23, 40},
	{`pgbouncer_users_current_connections{user="alice"}`, 23, 3},
	{`pgbouncer_users_max_user_client_connections{user="alice"}`, 24, 60},
	{`pgbouncer_users_current_client_connections{user="alice"}`, 24, 9},
	{`pgbouncer_stats_queries_pooled_total{database="app"}`, 0, 9},
	{`pgbouncer_stats_queries_duration_seconds_total{database="app"}`, 0, 0.5},
	{`pgbouncer_stats_server_assignments_total{database="app"}`, 23, 7},
	{`pgbouncer_stats_client_parses_total{database="app"}`, 24, 11},
	{"pgbouncer_config_max_client_connections{}", 0, 200},
	{"pgbouncer_client_connections_ratio{}", 0, 0.25},
	{"pgbouncer_config_max_prepared_statements{}", 21, 100},
	{"pgbouncer_servers_prepared_statements" + appPool, 21, 10},
	{"pgbouncer_servers_prepared_statements_max" + appPool, 21, 7},
	{"pgbouncer_clients_prepared_statements" + appPool, 21, 5},
}

// TestColumnDrift scrapes every release's column sets: no collector fails,
// no column is unknown, and each series is there exactly from the release
// whose columns carry it, with the scene's value.
func TestColumnDrift(t *testing.T) {
	releases := releaseColumns(t)
	var names []string
	for r := range releases {
		names = append(names, r)
	}
	sort.Slice(names, func(i, j int) bool { return minorOf(t, names[i]) < minorOf(t, names[j]) })
	if len(names) != 10 || names[0] != "1.16" || names[9] != "1.25" {
		t.Fatalf("testdata has releases %v, want 1.16 through 1.25", names)
	}
	for _, release := range names {
		t.Run(release, func(t *testing.T) {
			minor := minorOf(t, release)
			mock := newMockConsole(t, releases[release], mockScene(minor))
			s := collect(t, newTarget(t, mock.dsn(), slog.New(slog.DiscardHandler)), 5*time.Second)
			for _, c := range allCollectorNames() {
				if v := s.get(t, `redline_collector_success{collector="`+c+`"}`); v != 1 {
					t.Errorf("collector %s failed on %s's columns", c, release)
				}
			}
			for command := range releases[release] {
				if command == "SHOW VERSION" {
					continue // the liveness check, not a collector's
				}
				if v, ok := s[`redline_pgbouncer_unknown_columns{command="`+command+`"}`]; !ok || v != 0 {
					t.Errorf("%s: unknown columns = %v (present %v), want 0", command, v, ok)
				}
			}
			for _, e := range driftExpectations {
				v, ok := s[e.key]
				if want := minor >= e.since; ok != want {
					t.Errorf("%s present = %v, want %v", e.key, ok, want)
				} else if ok && v != e.value {
					t.Errorf("%s = %v, want %v", e.key, v, e.value)
				}
			}
			// The saturation ratio divides by the user's pool_size from
			// 1.23 on (SHOW USERS has it), by the database's before.
			want := 2.0 / 8
			if minor >= 23 {
				want = 2.0 / 4
			}
			if got := s.get(t, "pgbouncer_pool_saturation_ratio"+appPool); got != want {
				t.Errorf("saturation = %v, want %v", got, want)
			}
		})
	}
}

// TestColumnDriftUnknownAndMissing: on 1.25's columns, an added column no
// release has is counted for its command and changes nothing else; a
// missing optional column drops only its own series.
func TestColumnDriftUnknownAndMissing(t *testing.T) {
	base := releaseColumns(t)["1.25"]
	scene := mockScene(25)
	baseline := collect(t, newTarget(t, newMockConsole(t, base, scene).dsn(), nil), 5*time.Second)

	with := func(command string, edit func([]mockColumn) []mockColumn) map[string][]mockColumn {
		out := map[string][]mockColumn{}
		for k, v := range base {
			out[k] = append([]mockColumn(nil), v...)
		}
		out[command] = edit(out[command])
		return out
	}
	// diff lists the series that differ from the baseline.
	diff := func(s scrape) []string {
		var d []string
		for k, v := range baseline {
			if strings.HasPrefix(k, "redline_collector_duration_seconds") {
				continue
			}
			if w, ok := s[k]; !ok {
				d = append(d, "-"+k)
			} else if w != v {
				d = append(d, fmt.Sprintf("~%s %v->%v", k, v, w))
			}
		}
		for k := range s {
			if _, ok := baseline[k]; !ok {
				d = append(d, "+"+k)
			}
		}
		sort.Strings(d)
		return d
	}

	extra := with("SHOW POOLS", func(c []mockColumn) []mockColumn {
		// In the middle, as pgBouncer adds them: position must not matter.
		return append(c[:5:5], append([]mockColumn{{"cl_future_state", "i"}}, c[5:]...)...)
	})
	s := collect(t, newTarget(t, newMockConsole(t, extra, scene).dsn(), nil), 5*time.Second)
	if got, want := strings.Join(diff(s), " "), `~redline_pgbouncer_unknown_columns{command="SHOW POOLS"} 0->1`; got != want {
		t.Errorf("an unknown SHOW POOLS column changed:\n  %s\nwant only\n  %s", got, want)
	}

	missing := with("SHOW POOLS", func(c []mockColumn) []mockColumn {
		var out []mockColumn
		for _, col := range c {
			if col.name != "cl_waiting" {
				out = append(out, col)
			}
		}
		return out
	})
	s = collect(t, newTarget(t, newMockConsole(t, missing, scene).dsn(), nil), 5*time.Second)
	if got, want := strings.Join(diff(s), " "), "-pgbouncer_pools_client_waiting_connections"+appPool+" -pgbouncer_pools_client_waiting_connections{database=\"pgbouncer\",user=\"pgbouncer\"}"; got != want {
		t.Errorf("a missing cl_waiting changed:\n  %s\nwant only\n  %s", got, want)
	}
}

// allCollectorNames are this package's collectors.
func allCollectorNames() []string {
	var names []string
	for _, c := range collectors {
		names = append(names, c.name)
	}
	return names
}
