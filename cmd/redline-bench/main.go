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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redline-sre/redline/internal/bench"
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
	r, err := bench.Run(context.Background(), bench.Config{
		Shape: o.shape, Scrapes: o.scrapes, Warmup: o.warmup, Interval: o.interval, Timeout: o.timeout,
		Redline: o.redline, Others: o.others,
	}, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "redline-bench:", err)
		return 1
	}
	report := render(o, r)
	fmt.Fprint(stdout, report)
	if o.out != "" {
		if err := writeReport(o.out, report); err != nil {
			fmt.Fprintln(stderr, "redline-bench:", err)
			return 1
		}
	}
	return 0
}

func render(o options, r *bench.Report) string {
	results := r.Results
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "Command: `%s`\n\n", o.commandTxt)
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s/%s, %s. Database: %d tables and %d sequences in %d databases (%d schemas each), built in %s; pgBouncer %s with 20 pools, one saturated.\n\n",
		host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02"),
		o.shape.Tables(), o.shape.Tables(), o.shape.Databases, o.shape.Schemas, r.Build.Round(time.Second), r.BouncerVersion)
	for _, v := range r.Versions {
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
		o.scrapes, pace, o.warmup, r.LoadBefore, bench.LoadAverage())
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
