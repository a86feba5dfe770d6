package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Result is what one exporter cost during the measured scrapes.
type Result struct {
	Name            string
	Error           string // set when the exporter could not be measured (it failed to start or to answer)
	Scrapes         int
	Median, P90     time.Duration
	Series          int   // samples in the last exposition
	Bytes           int   // size of the last exposition
	RSSBytes        int64 // resident memory after the scrapes
	PGConnections   int   // PostgreSQL connections opened during the scrapes
	BouncerLogins   int   // pgBouncer logins during the scrapes
	FailedScrapes   int   // non-200 answers or transport errors
	LastScrapeError string
	// Statements is what the exporter's statements cost the server over
	// the measured scrapes (zero without Counters.Statements), background
	// refreshes included; StatementsError says why it could not be read.
	Statements      StatementCost
	StatementsError string
	Window          time.Duration // from the first measured scrape's start to the last one's end
	// CollectorSeconds is the median over the measured scrapes of each
	// series of redline's own cost metrics (DurationMetrics), keyed by
	// the series, e.g. redline_collector_duration_seconds{collector="sequences",target="db"}.
	CollectorSeconds map[string]float64
}

// Counters reads a running count of connections or logins (from a server
// log); Measure takes the difference across the scrapes.
type Counters struct {
	PGConnections func() (int, error)
	BouncerLogins func() (int, error)
	// Statements reads the server time of the exporter's statements.
	Statements func() (StatementCost, error)
}

// Measure scrapes url warmup times unmeasured, then n times, a measured
// scrape starting every interval (0: one right after the other), and
// reports latency, series, size, the resident memory of pid and what the
// scrapes cost the database.
func Measure(ctx context.Context, name, url string, pid, warmup, n int, interval, timeout time.Duration, counters Counters) Result {
	r := Result{Name: name, Scrapes: n}
	client := &http.Client{Timeout: timeout}
	var body []byte
	scrape := func() (time.Duration, error) {
		start := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		d := time.Since(start)
		if err != nil {
			return d, err
		}
		if resp.StatusCode != http.StatusOK {
			return d, fmt.Errorf("HTTP %s", resp.Status)
		}
		body = b
		return d, nil
	}
	for range warmup {
		if _, err := scrape(); err != nil {
			r.Error = "warm-up scrape: " + err.Error()
			return r
		}
	}
	// The statement reader logs in itself: read it outside the window the
	// connection counters cover.
	var stmtBefore StatementCost
	var stmtErr error
	if counters.Statements != nil {
		stmtBefore, stmtErr = counters.Statements()
	}
	before := readCounters(counters)
	var lat []time.Duration
	perCollector := map[string][]float64{}
	windowStart := time.Now()
	for i := range n {
		if interval > 0 {
			time.Sleep(time.Until(windowStart.Add(time.Duration(i) * interval)))
		}
		d, err := scrape()
		if err != nil {
			r.FailedScrapes++
			r.LastScrapeError = err.Error()
			continue
		}
		lat = append(lat, d)
		for k, v := range collectorDurations(body) {
			perCollector[k] = append(perCollector[k], v)
		}
	}
	if len(perCollector) > 0 {
		r.CollectorSeconds = map[string]float64{}
		for k, vs := range perCollector {
			sort.Float64s(vs)
			r.CollectorSeconds[k] = vs[len(vs)/2]
		}
	}
	after := readCounters(counters)
	r.Window = time.Since(windowStart)
	if counters.Statements != nil && stmtErr == nil {
		var stmtAfter StatementCost
		if stmtAfter, stmtErr = counters.Statements(); stmtErr == nil {
			r.Statements = stmtAfter.Sub(stmtBefore)
		}
	}
	if stmtErr != nil {
		r.StatementsError = stmtErr.Error()
	}
	r.PGConnections = after[0] - before[0]
	r.BouncerLogins = after[1] - before[1]
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		r.Median = lat[len(lat)/2]
		r.P90 = lat[(len(lat)*9)/10-boolInt(len(lat)*9%10 == 0)]
	}
	r.Series = countSamples(body)
	r.Bytes = len(body)
	r.RSSBytes, _ = RSS(pid)
	return r
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func readCounters(c Counters) [2]int {
	var out [2]int
	for i, f := range []func() (int, error){c.PGConnections, c.BouncerLogins} {
		if f != nil {
			out[i], _ = f()
		}
	}
	return out
}

// countSamples counts sample lines in a text exposition.
func countSamples(body []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 0 && line[0] != '#' {
			n++
		}
	}
	return n
}

// DurationMetrics are redline's own cost metrics: each collector's duration
// per scrape, and the background behind-column check's duration, which no
// scrape includes.
var DurationMetrics = []string{"redline_collector_duration_seconds", "pg_database_sequences_behind_column_check_duration_seconds"}

// collectorDurations reads the DurationMetrics samples of a text
// exposition, keyed by the series.
func collectorDurations(body []byte) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !slices.ContainsFunc(DurationMetrics, func(m string) bool { return strings.HasPrefix(line, m+"{") }) {
			continue
		}
		series, value, ok := strings.Cut(line, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		out[series+"}"] = v
	}
	return out
}

// RSS returns the resident set size of a process.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// CountLines returns a counter of the lines of a log file that contain
// substr: "connection authorized" in a PostgreSQL log with
// log_connections=on, "login attempt" in a pgBouncer log.
func CountLines(path, substr string) func() (int, error) {
	return func() (int, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		return bytes.Count(b, []byte(substr)), nil
	}
}
