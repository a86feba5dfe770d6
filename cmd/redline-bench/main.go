// Command redline-bench builds a synthetic database (thousands of tables and
// sequences, several databases, 20 pgBouncer pools with one saturated) on
// throwaway servers, then measures redline_exporter and — when installed —
// Debian's prometheus-postgres-exporter and prometheus-pgbouncer-exporter
// against it: scrape latency, series, response size, resident memory, and
// the connections and logins the scrapes cost. It prints a Markdown report.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redline-sre/redline/internal/bench"
	"github.com/redline-sre/redline/internal/demo"
	"github.com/redline-sre/redline/internal/testenv"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type options struct {
	shape      bench.Shape
	scrapes    int
	warmup     int
	redline    string
	out        string
	timeout    time.Duration
	commandTxt string
	others     bool
	tables     int
	interval   time.Duration
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("redline-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.shape.Databases, "databases", 2, "databases to create")
	fs.IntVar(&o.shape.Schemas, "schemas", 10, "schemas per database")
	fs.IntVar(&o.shape.TablesPerSchema, "tables-per-schema", 500, "tables (each with a sequence) per schema")
	fs.IntVar(&o.tables, "tables", 0, "database size: tables (each with a sequence) over all databases, e.g. 1000, 10000, 100000; sets -tables-per-schema (0: keep it)")
	fs.IntVar(&o.shape.RowsPerTable, "rows", 20, "rows per table (half of them updated into dead tuples)")
	fs.IntVar(&o.scrapes, "scrapes", 20, "measured scrapes per exporter")
	fs.IntVar(&o.warmup, "warmup", 3, "unmeasured warm-up scrapes per exporter")
	fs.DurationVar(&o.interval, "interval", 0, "start a measured scrape every interval, as Prometheus would (0: one right after the other); cached results refresh in the background, so the database cost per scrape needs a realistic interval")
	fs.StringVar(&o.redline, "redline", "bin/redline_exporter", "redline_exporter binary")
	fs.StringVar(&o.out, "out", "", "also write the report to this file")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "scrape timeout")
	fs.BoolVar(&o.others, "others", true, "also measure Debian's exporters when installed (false: redline only, for quick repeats)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.tables > 0 {
		per := o.shape.Databases * o.shape.Schemas
		if per <= 0 || o.tables%per != 0 {
			fmt.Fprintf(stderr, "redline-bench: -tables %d is not a multiple of -databases × -schemas (%d)\n", o.tables, per)
			return 2
		}
		o.shape.TablesPerSchema = o.tables / per
	}
	o.commandTxt = "go run ./cmd/redline-bench " + strings.Join(args, " ")
	report, err := benchmark(context.Background(), o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "redline-bench:", err)
		return 1
	}
	fmt.Fprint(stdout, report)
	if o.out != "" {
		if err := writeReport(o.out, report); err != nil {
			fmt.Fprintln(stderr, "redline-bench:", err)
			return 1
		}
	}
	return 0
}

func benchmark(ctx context.Context, o options, logw io.Writer) (string, error) {
	logf := func(format string, a ...any) { fmt.Fprintf(logw, format+"\n", a...) }
	work, err := os.MkdirTemp("", "redline-bench-")
	if err != nil {
		return "", err
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
	maps.Copy(settings, bench.StatementSettings)
	pg, err := testenv.StartPostgres(testenv.PostgresOptions{MaxConnections: 200, Settings: settings})
	if err != nil {
		return "", err
	}
	defer pg.Stop()
	// The exporters log in as their own role, so pg_stat_statements tells
	// their statements from the benchmark's.
	role, rolePassword := "bench_exporter", "bench-exporter-password"
	if err := bench.CreateStatementsExtension(ctx, pg.DSN("postgres"), role, rolePassword); err != nil {
		return "", err
	}
	roleDSN := func(db string) string {
		return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", role, rolePassword, pg.Host, pg.Port, db)
	}
	load0 := loadAverage()
	start := time.Now()
	logf("building %d tables and sequences in %d databases", o.shape.Tables(), o.shape.Databases)
	if err := bench.Build(ctx, pg.DSN, o.shape); err != nil {
		return "", err
	}
	buildTime := time.Since(start)

	var pools []testenv.PgBouncerDatabase
	dbs := o.shape.DatabaseNames()
	for i := 1; i <= 20; i++ {
		pools = append(pools, testenv.PgBouncerDatabase{Name: fmt.Sprintf("pool_%02d", i), DBName: dbs[i%len(dbs)], PoolSize: 2})
	}
	bouncer, err := testenv.StartPgBouncer(pg, testenv.PgBouncerOptions{Databases: pools, Settings: map[string]string{"log_connections": "1"}})
	if err != nil {
		return "", err
	}
	defer bouncer.Stop()
	sat, err := demo.Saturate(ctx, bouncer.DSN(pg.User, pg.Password, "pool_01"), 5, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer sat.Stop()

	counters := bench.Counters{
		PGConnections: bench.CountLines(filepath.Join(pg.Dir, "postgres.log"), "connection authorized"),
		BouncerLogins: bench.CountLines(filepath.Join(bouncer.Dir, "pgbouncer.log"), "login attempt"),
		Statements:    bench.StatementCounter(pg.DSN("postgres"), role),
	}
	var results []bench.Result
	var versions []string

	// redline
	port, _ := testenv.FreePort()
	cfg := filepath.Join(work, "redline.yml")
	cfgText := fmt.Sprintf("pgbouncer:\n  - name: bench_pgbouncer\n    dsn: %q\npostgres:\n  - name: bench_postgres\n    dsn: %q\n", bouncer.StatsDSN(), roleDSN("postgres"))
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		return "", err
	}
	results = append(results, measure(ctx, o, logf, counters, "redline_exporter", o.redline,
		[]string{"--config.file=" + cfg, fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port)}, nil,
		fmt.Sprintf("http://127.0.0.1:%d/metrics", port), work, &versions))

	// postgres_exporter (Debian), with its per-table queries
	if bin, err := exec.LookPath("prometheus-postgres-exporter"); err == nil && o.others {
		port, _ := testenv.FreePort()
		args := []string{fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--auto-discover-databases"}
		if q, err := bench.TableQueries("/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml", work); err == nil {
			args = append(args, "--extend.query-path="+q)
		}
		results = append(results, measure(ctx, o, logf, counters, "prometheus-postgres-exporter", bin, args,
			// postgres_exporter 0.11 cannot parse URL DSNs with
			// --auto-discover-databases; it takes the key=value form.
			[]string{fmt.Sprintf("DATA_SOURCE_NAME=host=%s port=%d user=%s password=%s dbname=postgres sslmode=disable", pg.Host, pg.Port, role, rolePassword)}, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), work, &versions))
	}
	// pgbouncer_exporter (Debian, python)
	if bin, err := exec.LookPath("prometheus-pgbouncer-exporter"); err == nil && o.others {
		port, _ := testenv.FreePort()
		args := []string{"--host", "127.0.0.1", "--port", fmt.Sprint(port), "--pgbouncer-host", "127.0.0.1",
			"--pgbouncer-port", fmt.Sprint(bouncer.Port), "--pgbouncer-user", bouncer.AdminUser}
		results = append(results, measure(ctx, o, logf, counters, "prometheus-pgbouncer-exporter", bin, args,
			[]string{"PGPASSWORD=" + bouncer.AdminPassword}, fmt.Sprintf("http://127.0.0.1:%d/metrics", port), work, &versions))
	}

	return render(o, bouncer, buildTime, load0, results, versions), nil
}

func measure(ctx context.Context, o options, logf func(string, ...any), counters bench.Counters,
	name, bin string, args, env []string, url, work string, versions *[]string) bench.Result {
	*versions = append(*versions, fmt.Sprintf("%s: %s", name, bench.Version(bin)))
	logf("measuring %s", name)
	e, err := testenv.StartCommand(name, bin, args, env, bench.RootOf(url))
	if err != nil {
		return bench.Result{Name: name, Error: shortError(err.Error())}
	}
	defer e.Stop()
	return bench.Measure(ctx, name, url, e.Pid(), o.warmup, o.scrapes, o.interval, o.timeout, counters)
}

func render(o options, bouncer *testenv.PgBouncer, build time.Duration, load0 string, results []bench.Result, versions []string) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "Command: `%s`\n\n", o.commandTxt)
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s/%s, %s. Database: %d tables and %d sequences in %d databases (%d schemas each), built in %s; pgBouncer %s with 20 pools, one saturated.\n\n",
		host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02"),
		o.shape.Tables(), o.shape.Tables(), o.shape.Databases, o.shape.Schemas, build.Round(time.Second), bouncer.Version)
	for _, v := range versions {
		fmt.Fprintf(&b, "- %s\n", v)
	}
	b.WriteString("\n| exporter | median | p90 | series | bytes | RSS | DB time per scrape | statements per scrape | PG connections opened | pgBouncer logins | failed scrapes |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		if r.Error != "" {
			fmt.Fprintf(&b, "| %s | failed: %s | | | | | | | | | |\n", r.Name, strings.ReplaceAll(r.Error, "|", "/"))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %s | %s | %s | %d | %d | %d |\n", r.Name,
			r.Median.Round(time.Millisecond), r.P90.Round(time.Millisecond), r.Series, r.Bytes,
			bench.FormatBytes(r.RSSBytes), dbTime(r), dbCalls(r), r.PGConnections, r.BouncerLogins, r.FailedScrapes)
	}
	pace := "one right after the other"
	if o.interval > 0 {
		pace = "one every " + o.interval.String()
	}
	fmt.Fprintf(&b, "\nOver %d measured scrapes (%s) after %d warm-up scrapes each. Load average (1, 5, 15 min) before the build: %s; after the measurements: %s.\n",
		o.scrapes, pace, o.warmup, load0, loadAverage())
	b.WriteString("DB time per scrape: pg_stat_statements' execution plus planning time of the exporter's statements from the first measured scrape to the last (background refreshes included), divided by the scrapes; the pgBouncer exporters' statements go to pgBouncer, not PostgreSQL.\n")
	for _, r := range results {
		if r.Error == "" && r.StatementsError == "" && r.Window > 0 {
			fmt.Fprintf(&b, "%s: %d statements, %s of server time in a %s window (%.1f%% of one core).\n", r.Name, r.Statements.Calls,
				(r.Statements.Exec + r.Statements.Plan).Round(time.Millisecond), r.Window.Round(time.Second),
				100*float64(r.Statements.Exec+r.Statements.Plan)/float64(r.Window))
		}
	}
	for _, r := range results {
		if len(r.CollectorSeconds) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s, median over the measured scrapes of each collector's duration, and of the background behind-column check's:\n\n| series | median |\n|---|---|\n", r.Name)
		keys := slices.Sorted(maps.Keys(r.CollectorSeconds))
		for _, k := range keys {
			fmt.Fprintf(&b, "| `%s` | %s |\n", k, time.Duration(r.CollectorSeconds[k]*float64(time.Second)).Round(100*time.Microsecond))
		}
	}
	return b.String()
}

// dbTime is the server time per measured scrape, exec + plan.
func dbTime(r bench.Result) string {
	if r.StatementsError != "" {
		return "unknown"
	}
	if r.Scrapes <= 0 {
		return ""
	}
	per := (r.Statements.Exec + r.Statements.Plan) / time.Duration(r.Scrapes)
	s := fmt.Sprintf("%s (plan %s)", per.Round(100*time.Microsecond), (r.Statements.Plan / time.Duration(r.Scrapes)).Round(100*time.Microsecond))
	if r.Statements.Evicted > 0 {
		s += " ≥, entries evicted"
	}
	return s
}

// dbCalls is the exporter's statements per measured scrape.
func dbCalls(r bench.Result) string {
	if r.StatementsError != "" || r.Scrapes <= 0 {
		return ""
	}
	return strconv.FormatFloat(float64(r.Statements.Calls)/float64(r.Scrapes), 'f', 1, 64)
}

// loadAverage is the machine's load average: the benchmark runs on shared
// machines, and the figures mean little without it.
func loadAverage() string {
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

// Report markers: when the output file has them, only the text between
// them is replaced, so the rest of the document (history, analysis) stays.
const (
	beginMarker = "<!-- redline-bench:begin -->"
	endMarker   = "<!-- redline-bench:end -->"
)

// writeReport writes report to path, between the markers when the file
// has them, as the whole file otherwise.
func writeReport(path, report string) error {
	old, err := os.ReadFile(path)
	if err == nil {
		text := string(old)
		i, j := strings.Index(text, beginMarker), strings.Index(text, endMarker)
		if i >= 0 && j > i {
			text = text[:i+len(beginMarker)] + "\n" + report + text[j:]
			return os.WriteFile(path, []byte(text), 0o644)
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(path, []byte(report), 0o644)
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
