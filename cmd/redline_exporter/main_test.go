package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/redline-sre/redline/exporter/pgbouncer"
	"github.com/redline-sre/redline/internal/testenv"
)

// exporter is redline_exporter running in-process on a free port.
type exporter struct {
	URL    string
	stderr *testenv.SyncBuffer
	done   chan int
	stop   context.CancelFunc
}

// startExporter runs the exporter with args plus a listen address, waits
// until it answers /-/ready and stops it when the test ends.
func startExporter(t *testing.T, scheme string, args ...string) *exporter {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	e := &exporter{URL: scheme + "://" + addr, stderr: &testenv.SyncBuffer{}, done: make(chan int, 1), stop: cancel}
	go func() { e.done <- run(ctx, append(args, "--web.listen-address="+addr), io.Discard, e.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-e.done:
		case <-time.After(10 * time.Second):
			t.Error("exporter did not stop within 10s")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-e.done:
			t.Fatalf("exporter exited with %d:\n%s", code, e.stderr)
		default:
		}
		// Any answer means it listens (over TLS the handshake fails
		// without the test's CA, which is an answer too).
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return e
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("exporter not listening:\n%s", e.stderr)
	return nil
}

func (e *exporter) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(e.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func (e *exporter) post(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Post(e.URL+path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sharedPG is one PostgreSQL behind every test's own pgBouncer: initdb is
// the slow part of an environment.
var sharedPG testenv.SharedPostgres

func TestMain(m *testing.M) {
	code := m.Run()
	sharedPG.Stop()
	os.Exit(code)
}

func newPgBouncer(t *testing.T) *testenv.PgBouncer {
	t.Helper()
	return testenv.NewPgBouncer(t, sharedPostgres(t), testenv.PgBouncerOptions{})
}

// sharedPostgres starts the package's one PostgreSQL on first use.
func sharedPostgres(t *testing.T) *testenv.Postgres {
	t.Helper()
	return sharedPG.Get(t)
}

// TestExpositionIsLintClean scrapes a real pgBouncer through the binary's
// /metrics and checks the text with client_golang's promlint and the real
// `promtool check metrics`.
func TestExpositionIsLintClean(t *testing.T) {
	pb := newPgBouncer(t)
	t.Setenv("REDLINE_PGBOUNCER_DSN", pb.StatsDSN())
	e := startExporter(t, "http")
	code, body := e.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	for _, want := range []string{
		`pgbouncer_up{target="pgbouncer"} 1`,
		`pgbouncer_pool_saturation_ratio{database="pgbouncer",target="pgbouncer",user="pgbouncer"}`,
		`redline_collector_success{collector="pgbouncer_pools",target="pgbouncer"} 1`,
		`redline_config_last_reload_successful 1`,
		`redline_build_info{`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}

	promtool := testenv.Binary(t, "promtool")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestProbeAndConcurrentScrapes: /probe serves only configured names, and
// 50 concurrent scrapes through the HTTP layer keep within the pool.
func TestProbeAndConcurrentScrapes(t *testing.T) {
	pb := newPgBouncer(t)
	t.Setenv("REDLINE_PGBOUNCER_DSN", pb.StatsDSN())
	e := startExporter(t, "http")
	if code, body := e.get(t, "/probe?target=pgbouncer"); code != 200 || !strings.Contains(body, `pgbouncer_up{target="pgbouncer"} 1`) {
		t.Errorf("/probe?target=pgbouncer: %d\n%s", code, body)
	}
	addr := fmt.Sprintf("%s:%d", pb.Host, pb.Port)
	for _, q := range []string{"unknown", addr, url.QueryEscape(pb.StatsDSN())} {
		if code, _ := e.get(t, "/probe?target="+q); code != http.StatusBadRequest {
			t.Errorf("/probe?target=%s: %d, want 400", q, code)
		}
	}

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			path := "/metrics"
			if i%2 == 0 {
				path = "/probe?target=pgbouncer"
			}
			if code, body := e.get(t, path); code != 200 || !strings.Contains(body, `pgbouncer_up{target="pgbouncer"} 1`) {
				t.Errorf("concurrent scrape %d: %d", i, code)
			}
		})
	}
	wg.Wait()
	n := exporterConnections(t, pb)
	if n < 1 || n > pgbouncer.DefaultMaxConnections {
		t.Errorf("pgBouncer holds %d exporter connections after 50 concurrent scrapes, want 1..%d", n, pgbouncer.DefaultMaxConnections)
	}
}

// exporterConnections counts the exporter's client connections in
// pgBouncer's SHOW CLIENTS.
func exporterConnections(t *testing.T, pb *testenv.PgBouncer) int {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pb.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	res, err := admin.PgConn().Exec(ctx, "SHOW CLIENTS").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range res {
		for i, f := range r.FieldDescriptions {
			if f.Name != "application_name" {
				continue
			}
			for _, row := range r.Rows {
				if string(row[i]) == pgbouncer.ApplicationName {
					n++
				}
			}
		}
	}
	return n
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	writeFile(t, good, "pgbouncer:\n  - name: a\n    dsn: postgres://u:pw@127.0.0.1:1/pgbouncer\n")
	writeFile(t, bad, "pgbouncer:\n  - name: a\n    dsn: postgres://u:pw@127.0.0.1:1/pgbouncer\n    pool_size: 3\n")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--config.file=" + good, "--config.check"}, &out, &errOut); code != 0 {
		t.Errorf("valid config: exit %d\n%s", code, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"--config.file=" + bad, "--config.check"}, &out, &errOut); code != 1 {
		t.Errorf("invalid config: exit %d, want 1", code)
	}
	if want := bad + `:4:5: pgbouncer[0].pool_size: unknown key "pool_size"`; !strings.Contains(errOut.String(), want) {
		t.Errorf("config check output lacks %q:\n%s", want, errOut.String())
	}
	// Serving with a bad file stops at start-up instead of running empty.
	if code := run(context.Background(), []string{"--config.file=" + bad, "--web.listen-address=127.0.0.1:0"}, &out, io.Discard); code != 1 {
		t.Errorf("start with an invalid config: exit %d, want 1", code)
	}
	// A probe the prober would reject (a header value with a line break)
	// fails the check and the start-up: before, both passed and the probe
	// silently never ran.
	badProbe := filepath.Join(dir, "bad-probe.yml")
	writeFile(t, badProbe, "probes:\n  - name: api\n    url: http://127.0.0.1:1/loop\n    headers:\n      Authorization: \"Bearer s3cret\\r\\nX: y\"\n")
	errOut.Reset()
	if code := run(context.Background(), []string{"--config.file=" + badProbe, "--config.check"}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), `header "Authorization": value contains a line break`) || strings.Contains(errOut.String(), "s3cret") {
		t.Errorf("config check of a bad probe header: exit %d\n%s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"--config.file=" + badProbe, "--web.listen-address=127.0.0.1:0"}, &out, io.Discard); code != 1 {
		t.Errorf("start with a bad probe header: exit %d, want 1", code)
	}
	// Nothing to scrape is a failed check (a DSN variable that never
	// reached the process), though serving that way only warns.
	empty := filepath.Join(dir, "empty.yml")
	writeFile(t, empty, "{}\n")
	for _, args := range [][]string{{"--config.check"}, {"--config.file=" + empty, "--config.check"}} {
		errOut.Reset()
		if code := run(context.Background(), args, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "no targets configured") {
			t.Errorf("%v: exit %d, want 1 saying no targets are configured\n%s", args, code, errOut.String())
		}
	}
	// An unencoded '@' in a password used to pass the check; every scrape
	// then logged the password's tail as a host name.
	atDSN := filepath.Join(dir, "at.yml")
	writeFile(t, atDSN, "postgres:\n  - name: db\n    dsn: \"postgres://redline_exporter:ab@cdLeak@127.0.0.1:5432/postgres\"\n")
	errOut.Reset()
	if code := run(context.Background(), []string{"--config.file=" + atDSN, "--config.check"}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "percent-encode it as %40") || strings.Contains(errOut.String(), "cdLeak") {
		t.Errorf("config check of a DSN with an unencoded '@': exit %d\n%s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"--no-such-flag"}, &out, io.Discard); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
