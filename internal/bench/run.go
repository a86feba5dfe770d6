package bench

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/redline-sre/redline/internal/demo"
	"github.com/redline-sre/redline/internal/testenv"
)

// Config is one benchmark run: the database to build and how to scrape
// each exporter.
type Config struct {
	Shape           Shape
	Scrapes, Warmup int           // measured and unmeasured scrapes per exporter
	Interval        time.Duration // between measured scrape starts; 0: back to back
	Timeout         time.Duration // per scrape
	Redline         string        // redline_exporter binary
	Others          bool          // also Debian's exporters, when installed
}

// Report is what a run measured, for the command to print.
type Report struct {
	Results        []Result
	Versions       []string // "name: version" of each exporter measured
	Build          time.Duration
	LoadBefore     string // load average before the build
	BouncerVersion string
}

// Run starts PostgreSQL and pgBouncer on throwaway directories, builds the
// synthetic database, saturates one pool, and measures redline_exporter
// and (with Others) Debian's exporters against them.
func Run(ctx context.Context, o Config, logw io.Writer) (*Report, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(logw, format+"\n", a...) }
	work, err := os.MkdirTemp("", "redline-bench-")
	if err != nil {
		return nil, err
	}
	if os.Getenv("REDLINE_BENCH_KEEP") == "" {
		defer os.RemoveAll(work)
	}
	logf("work directory: %s", work)

	logf("starting PostgreSQL")
	settings := map[string]string{
		"log_connections":           "on",
		"max_locks_per_transaction": "1024",
	}
	maps.Copy(settings, StatementSettings)
	pg, err := testenv.StartPostgres(testenv.PostgresOptions{MaxConnections: 200, Settings: settings})
	if err != nil {
		return nil, err
	}
	defer pg.Stop()
	// The exporters log in as their own role, so pg_stat_statements tells
	// their statements from the benchmark's.
	role, rolePassword := "bench_exporter", "bench-exporter-password"
	if err := CreateStatementsExtension(ctx, pg.DSN("postgres"), role, rolePassword); err != nil {
		return nil, err
	}
	roleDSN := func(db string) string {
		return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", role, rolePassword, pg.Host, pg.Port, db)
	}
	load0 := LoadAverage()
	start := time.Now()
	logf("building %d tables and sequences in %d databases", o.Shape.Tables(), o.Shape.Databases)
	if err := Build(ctx, pg.DSN, o.Shape); err != nil {
		return nil, err
	}
	buildTime := time.Since(start)

	var pools []testenv.PgBouncerDatabase
	dbs := o.Shape.DatabaseNames()
	for i := 1; i <= 20; i++ {
		pools = append(pools, testenv.PgBouncerDatabase{Name: fmt.Sprintf("pool_%02d", i), DBName: dbs[i%len(dbs)], PoolSize: 2})
	}
	bouncer, err := testenv.StartPgBouncer(pg, testenv.PgBouncerOptions{Databases: pools, Settings: map[string]string{"log_connections": "1"}})
	if err != nil {
		return nil, err
	}
	defer bouncer.Stop()
	sat, err := demo.Saturate(ctx, bouncer.DSN(pg.User, pg.Password, "pool_01"), 5, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer sat.Stop()

	counters := Counters{
		PGConnections: CountLines(filepath.Join(pg.Dir, "postgres.log"), "connection authorized"),
		BouncerLogins: CountLines(filepath.Join(bouncer.Dir, "pgbouncer.log"), "login attempt"),
		Statements:    StatementCounter(pg.DSN("postgres"), role),
	}
	var results []Result
	var versions []string

	// redline
	port, _ := testenv.FreePort()
	cfg := filepath.Join(work, "redline.yml")
	cfgText := fmt.Sprintf("pgbouncer:\n  - name: bench_pgbouncer\n    dsn: %q\npostgres:\n  - name: bench_postgres\n    dsn: %q\n", bouncer.StatsDSN(), roleDSN("postgres"))
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		return nil, err
	}
	results = append(results, measure(ctx, o, logf, counters, "redline_exporter", o.Redline,
		[]string{"--config.file=" + cfg, fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port)}, nil,
		fmt.Sprintf("http://127.0.0.1:%d/metrics", port), work, &versions))

	// postgres_exporter (Debian), with its per-table queries
	if bin, err := exec.LookPath("prometheus-postgres-exporter"); err == nil && o.Others {
		port, _ := testenv.FreePort()
		args := []string{fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--auto-discover-databases"}
		if q, err := TableQueries("/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml", work); err == nil {
			args = append(args, "--extend.query-path="+q)
		}
		results = append(results, measure(ctx, o, logf, counters, "prometheus-postgres-exporter", bin, args,
			// postgres_exporter 0.11 cannot parse URL DSNs with
			// --auto-discover-databases; it takes the key=value form.
			[]string{fmt.Sprintf("DATA_SOURCE_NAME=host=%s port=%d user=%s password=%s dbname=postgres sslmode=disable", pg.Host, pg.Port, role, rolePassword)}, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), work, &versions))
	}
	// pgbouncer_exporter (Debian, python)
	if bin, err := exec.LookPath("prometheus-pgbouncer-exporter"); err == nil && o.Others {
		port, _ := testenv.FreePort()
		args := []string{"--host", "127.0.0.1", "--port", fmt.Sprint(port), "--pgbouncer-host", "127.0.0.1",
			"--pgbouncer-port", fmt.Sprint(bouncer.Port), "--pgbouncer-user", bouncer.AdminUser}
		results = append(results, measure(ctx, o, logf, counters, "prometheus-pgbouncer-exporter", bin, args,
			[]string{"PGPASSWORD=" + bouncer.AdminPassword}, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), work, &versions))
	}

	return &Report{Results: results, Versions: versions, Build: buildTime, LoadBefore: load0, BouncerVersion: bouncer.Version}, nil
}

func measure(ctx context.Context, o Config, logf func(string, ...any), counters Counters,
	name, bin string, args, env []string, url, work string, versions *[]string) Result {
	*versions = append(*versions, fmt.Sprintf("%s: %s", name, Version(bin)))
	logf("measuring %s", name)
	e, err := testenv.StartCommand(name, bin, args, env, RootOf(url))
	if err != nil {
		return Result{Name: name, Error: shortError(err.Error())}
	}
	defer e.Stop()
	return Measure(ctx, name, url, e.Pid(), o.Warmup, o.Scrapes, o.Interval, o.Timeout, counters)
}

// shortError keeps a start-up failure short enough for a table cell: its
// first line (what happened) and last line (for a crash, the exception).
func shortError(s string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > 2 {
		lines = []string{lines[0], "…", lines[len(lines)-1]}
	}
	return strings.Join(lines, " ")
}

// LoadAverage is the machine's load average: the benchmark runs on shared
// machines, and the figures mean little without it.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}
