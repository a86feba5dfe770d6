package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPostgresAndPgBouncer(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	pg := NewPostgres(t, PostgresOptions{})
	t.Logf("postgres ready in %s", time.Since(start))

	if err := pg.CreateDatabase(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if err := pg.CreateRole(ctx, "app_user", "s3cret"); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, pg.DSN("app"))
	if err != nil {
		t.Fatal(err)
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	conn.Close(ctx)

	start = time.Now()
	b := NewPgBouncer(t, pg, PgBouncerOptions{
		Users:     map[string]string{"app_user": "s3cret"},
		Databases: []PgBouncerDatabase{{Name: "app", PoolSize: 2}},
	})
	t.Logf("pgbouncer %s ready in %s", b.Version, time.Since(start))
	if !strings.HasPrefix(b.Version, "PgBouncer") && !strings.Contains(b.Version, ".") {
		t.Errorf("SHOW VERSION = %q", b.Version)
	}

	app, err := pgx.Connect(ctx, b.DSN("app_user", "s3cret", "app"))
	if err != nil {
		t.Fatal(err)
	}
	var db string
	if err := app.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db != "app" {
		t.Fatalf("through pgbouncer: current_database() = %q, %v", db, err)
	}
	app.Close(ctx)

	if _, err := pgx.Connect(ctx, b.DSN("app_user", "wrong", "app")); err == nil {
		t.Error("pgbouncer accepted a wrong password")
	}
	stats, err := pgx.Connect(ctx, b.StatsDSN())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := stats.Query(ctx, "SHOW POOLS")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	stats.Close(ctx)
}

func TestPrometheusScrapesTarget(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE smoke_value gauge\nsmoke_value 42")
	}))
	defer target.Close()

	p := NewPrometheus(t, PrometheusOptions{
		ScrapeInterval: 200 * time.Millisecond,
		Scrape:         []ScrapeTarget{{Job: "smoke", Targets: []string{strings.TrimPrefix(target.URL, "http://")}}},
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if v, ok := queryScalar(t, p.URL, `smoke_value{job="smoke"}`); ok && v == "42" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("prometheus never scraped the target; log:\n%s", p.Log())
}

func TestAlertmanagerAcceptsAlert(t *testing.T) {
	got := make(chan string, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- string(b)
	}))
	defer hook.Close()

	cfg := filepath.Join(t.TempDir(), "am.yml")
	conf := fmt.Sprintf(`route:
  receiver: hook
  group_wait: 0s
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs:
      - url: %s
`, hook.URL)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	am := NewAlertmanager(t, cfg)

	alert := `[{"labels":{"alertname":"SmokeTest","rollback":"true"},"annotations":{"summary":"smoke"}}]`
	resp, err := http.Post(am.URL+"/api/v2/alerts", "application/json", strings.NewReader(alert))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}
	select {
	case body := <-got:
		if !strings.Contains(body, `"alertname":"SmokeTest"`) {
			t.Errorf("webhook body does not carry the alert: %s", body)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("webhook never called; log:\n%s", am.Log())
	}
}

// TestStartAll brings all four components up together, as the e2e tests
// and the demo do, and checks that each answers and that they are wired:
// the PostgreSQL server is reachable through pgBouncer. The time it takes
// is logged, not asserted.
func TestStartAll(t *testing.T) {
	start := time.Now()
	pg := NewPostgres(t, PostgresOptions{})
	b := NewPgBouncer(t, pg, PgBouncerOptions{})
	cfg := filepath.Join(t.TempDir(), "am.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: none\nreceivers:\n  - name: none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	am := NewAlertmanager(t, cfg)
	prom := NewPrometheus(t, PrometheusOptions{})
	t.Logf("all four components ready in %s", time.Since(start).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, b.DSN(pg.User, pg.Password, "postgres"))
	if err != nil {
		t.Fatalf("PostgreSQL through pgBouncer: %v", err)
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("SELECT 1 through pgBouncer: %d, %v", one, err)
	}
	for name, url := range map[string]string{"Alertmanager": am.URL + "/-/ready", "Prometheus": prom.URL + "/-/ready"} {
		resp, err := http.Get(url)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s /-/ready: %s", name, resp.Status)
		}
	}
}

// TestStopLeavesNothing checks that teardown ends exactly what it started.
func TestStopLeavesNothing(t *testing.T) {
	pg, err := StartPostgres(PostgresOptions{})
	if err != nil {
		missing(t, err)
	}
	b, err := StartPgBouncer(pg, PgBouncerOptions{})
	if err != nil {
		pg.Stop()
		t.Fatal(err)
	}
	pids := []int{pg.Pid(), b.Pid()}
	if err := b.Stop(); err != nil {
		t.Error(err)
	}
	if err := pg.Stop(); err != nil {
		t.Error(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d outlived Stop", pid)
		}
	}
	for _, d := range []string{pg.Dir, b.Dir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left behind", d)
		}
	}
}

func queryScalar(t *testing.T, base, q string) (string, bool) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Data.Result) == 0 {
		return "", false
	}
	s, _ := out.Data.Result[0].Value[1].(string)
	return s, true
}

// TestPortClashIsRecognised: a server whose port is taken fails with an
// error the harness recognises (and retries on a new port when the port
// came from FreePort).
func TestPortClashIsRecognised(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	// The setting pins every attempt to the taken port.
	_, err = StartPostgres(PostgresOptions{Settings: map[string]string{"port": strconv.Itoa(port)}})
	if err == nil {
		t.Fatal("postgres started on a taken port")
	}
	if !portTaken(err) {
		t.Fatalf("a taken port was not recognised: %v", err)
	}
}

func TestLookPathTakesPostgresProgramsFromOneDirectory(t *testing.T) {
	server, err := LookPath("postgres")
	if err != nil {
		missing(t, err)
	}
	initdb, err := LookPath("initdb")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(server) != filepath.Dir(initdb) {
		t.Errorf("postgres from %s, initdb from %s", server, initdb)
	}
}

// TestChosenPostgresVersion: REDLINE_PG_BIN picks the server, and a
// directory without one is an error, never Debian's server in its place.
func TestChosenPostgresVersion(t *testing.T) {
	if dir := os.Getenv("REDLINE_PG_BIN"); dir != "" {
		pg := NewPostgres(t, PostgresOptions{})
		if pg.BinDir != dir {
			t.Errorf("postgres started from %s, REDLINE_PG_BIN is %s", pg.BinDir, dir)
		}
		t.Logf("server_version_num %d from %s", pg.Version, pg.BinDir)
		// make compat-deps writes the package version beside bin/.
		if raw, err := os.ReadFile(filepath.Join(dir, "..", "VERSION")); err == nil {
			if want := strings.SplitN(string(raw), ".", 2)[0]; strconv.Itoa(pg.Version/10000) != want {
				t.Errorf("server_version_num %d, the directory holds %s", pg.Version, strings.TrimSpace(string(raw)))
			}
		}
	}
	t.Setenv("REDLINE_PG_BIN", t.TempDir())
	if p, err := LookPath("postgres"); err == nil {
		t.Fatalf("REDLINE_PG_BIN without a server: LookPath = %s, want an error", p)
	} else if !strings.Contains(err.Error(), "REDLINE_PG_BIN") {
		t.Errorf("error does not name REDLINE_PG_BIN: %v", err)
	}
}
