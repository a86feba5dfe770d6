package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redline-sre/redline/exporter/pgbouncer"
	"github.com/redline-sre/redline/exporter/postgres"
)

// One scrape asking for a day (X-Prometheus-Scrape-Timeout-Seconds: 86400)
// starts the shared collection of a frozen pgBouncer. An ordinary 10s
// scrape that joins it must answer by its own deadline, not the day's (5
// minutes with the cap), and carry pgbouncer_up 0, pg_up 1 and
// redline_collector_success for every collector of both targets. It used to
// answer with pgbouncer_up alone and no success series for pgBouncer's
// collectors.
func TestScrapeJoiningALongCollectionKeepsItsOwnDeadline(t *testing.T) {
	t.Parallel()
	pg := sharedPostgres(t)
	b := newPgBouncer(t)
	e := startExporter(t, "http", "--pgbouncer.dsn="+b.StatsDSN(), "--postgres.dsn="+pg.DSN("postgres"))
	if code, body := e.get(t, "/metrics"); code != 200 || !strings.Contains(body, `pgbouncer_up{target="pgbouncer"} 1`) {
		t.Fatalf("warm-up scrape: %d\n%s", code, body)
	}

	if err := syscall.Kill(b.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Runs before the exporter's own cleanup: thawed, pgBouncer answers
	// the long collection, which then ends at once.
	t.Cleanup(func() { _ = syscall.Kill(b.Pid(), syscall.SIGCONT) })
	longCtx, cancelLong := context.WithCancel(context.Background())
	t.Cleanup(cancelLong)
	longDone := make(chan struct{})
	go func() {
		defer close(longDone)
		if resp, err := scrapeWithTimeoutHeader(longCtx, e.URL, "86400", 0); err == nil {
			resp.Body.Close()
		}
	}()
	// Let the long scrape start the collection first; should it come
	// second on a starved machine, the test proves less but cannot fail.
	time.Sleep(time.Second)

	// The client waits 20s, not 10s: the exporter answers at 9.5s, and on a
	// loaded CI machine under -race the answer can take longer than the
	// offset's half second to be written. What fails is waiting for the
	// day-long collection (5 minutes with the cap).
	start := time.Now()
	resp, err := scrapeWithTimeoutHeader(context.Background(), e.URL, "10", 20*time.Second)
	if err != nil {
		t.Fatalf("10s scrape joining a day-long collection: %v", err)
	}
	t.Logf("10s scrape answered after %s", time.Since(start).Round(time.Millisecond))
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	body := string(raw)
	want := []string{`pgbouncer_up{target="pgbouncer"} 0`, `pg_up{target="postgres"} 1`}
	for _, c := range pgbouncer.Collectors.Names() {
		want = append(want, `redline_collector_success{collector="`+c+`",target="pgbouncer"} 0`)
	}
	for _, c := range postgres.Collectors.Names() {
		want = append(want, `redline_collector_success{collector="`+c+`",target="postgres"} 1`)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("answer lacks %s", w)
		}
	}
	if t.Failed() {
		t.Logf("answer:\n%s", body)
	}
	select {
	case <-longDone:
		t.Error("the day-long scrape ended while pgBouncer was frozen")
	default:
	}
}

// scrapeWithTimeoutHeader GETs /metrics as Prometheus does, with the given
// timeout header; clientTimeout 0 waits as long as ctx.
func scrapeWithTimeoutHeader(ctx context.Context, base, header string, clientTimeout time.Duration) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", header)
	return (&http.Client{Timeout: clientTimeout}).Do(req)
}
