package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	pmodel "github.com/prometheus/common/model"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/argo"
	"github.com/redline-sre/redline/rulegen/render/flagger"
	"github.com/redline-sre/redline/rulegen/spec"
)

// track is one of the platform's two Deployments as the engines see it: the
// canary and the stable track, told apart by the Argo Rollouts track label
// and by Flagger's app label (<target> and <target>-primary).
type track struct{ name, app string }

var tracks = []track{{"canary", "platform"}, {"stable", "platform-primary"}}

// platformApp serves the application metrics the platform spec reads, as a
// healthy release exports them, growing at fixed rates so that every value
// is known: 100 requests/s with 0.1% 5xx, P95 well under 200ms, no
// reconnects, risk blocks or decimal drift (those counters are created on
// the first event, so they have no series), no idempotency conflict yet
// (that counter exists at 0), a trickle of CSP reports below the signal's
// min_rate, a young process (inside MemoryLeak's 30-minute guard). It also
// serves the event-loop prober's route and the page with the security
// headers.
func platformApp(start time.Time) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		el := time.Since(start).Seconds()
		lines := []struct {
			series string
			value  float64
		}{
			{`http_requests_total{status="200"}`, 1000 + 100*el},
			{`http_requests_total{status="500"}`, 1 + 0.1*el},
			{`http_request_duration_seconds_bucket{le="0.05"}`, 95 * el},
			{`http_request_duration_seconds_bucket{le="0.1"}`, 99 * el},
			{`http_request_duration_seconds_bucket{le="0.2"}`, 99.9 * el},
			{`http_request_duration_seconds_bucket{le="0.5"}`, 100 * el},
			{`http_request_duration_seconds_bucket{le="+Inf"}`, 100 * el},
			{`http_request_duration_seconds_count`, 100 * el},
			{`http_request_duration_seconds_sum`, 3 * el},
			{`websocket_message_staleness_seconds`, 0.5},
			{`idempotency_requests_total`, 10 * el},
			{`idempotency_conflicts_total`, 0},
			{`csp_violations_total`, 0.1 * el},
			{`nodejs_gc_duration_seconds_sum`, 0.01 * el},
			{`nodejs_gc_duration_seconds_count`, 2 * el},
			{`process_cpu_seconds_total`, 0.1 * el},
			{`process_resident_memory_bytes`, 5e7},
			{`process_start_time_seconds`, float64(start.Unix())},
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%s %g\n", l.series, l.value)
		}
	})
	mux.HandleFunc("/noop", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		_, _ = io.WriteString(w, "<!doctype html><title>platform</title>\n")
	})
	return mux
}

// healthyPlatform starts PostgreSQL with the platform's database (a table
// with an owned sequence and a few rows, no migration tool), pgBouncer
// with a client holding a connection, both tracks of the application and
// redline_exporter reading all of them, and returns the scrape targets.
func healthyPlatform(t *testing.T) []testenv.ScrapeTarget {
	t.Helper()
	ctx := context.Background()
	pg := testenv.NewPostgres(t, testenv.PostgresOptions{})
	if err := pg.CreateDatabase(ctx, "trading"); err != nil {
		t.Fatal(err)
	}
	if err := pg.Exec(ctx, "trading", "CREATE TABLE orders (id serial PRIMARY KEY, amount numeric); INSERT INTO orders (amount) SELECT g FROM generate_series(1, 100) g"); err != nil {
		t.Fatal(err)
	}
	bouncer := testenv.NewPgBouncer(t, pg, testenv.PgBouncerOptions{Databases: []testenv.PgBouncerDatabase{{Name: "trading", PoolSize: 5}}})
	client, err := pgx.Connect(ctx, bouncer.DSN(pg.User, pg.Password, "trading"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(context.Background()) })
	if _, err := client.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	apps := map[string]*httptest.Server{}
	for _, tr := range tracks {
		apps[tr.name] = httptest.NewServer(platformApp(start))
		t.Cleanup(apps[tr.name].Close)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf("pgbouncer:\n  - name: pgbouncer\n    dsn: %q\npostgres:\n  - name: postgres\n    dsn: %q\nprobes:\n  - name: platform\n    url: %q\nheaders:\n  - name: platform\n    url: %q\n",
		bouncer.StatsDSN(), pg.DSN("postgres"), apps["stable"].URL+"/noop", apps["stable"].URL+"/")
	cfgPath := filepath.Join(dir, "redline_exporter.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	exporterURL := "http://127.0.0.1:" + strconv.Itoa(port)
	exp, err := testenv.StartCommand("redline_exporter", exporterBin, []string{
		"--config.file=" + cfgPath, "--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
		"--postgres.behind-column-ttl=1s",
	}, nil, exporterURL+"/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("exporter log:\n%s", exp.Log())
		}
		_ = exp.Stop()
	})
	// The exporter opens its connections on its first scrapes; they are
	// in place before Prometheus scrapes, so that the connection count
	// Prometheus sees does not step (ConnectionLeak's deriv would read
	// the step as growth).
	for range 3 {
		resp, err := http.Get(exporterURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	targets := []testenv.ScrapeTarget{{Job: "redline", Targets: []string{strings.TrimPrefix(exporterURL, "http://")}}}
	for _, tr := range tracks {
		targets = append(targets, testenv.ScrapeTarget{Job: "platform", Targets: []string{strings.TrimPrefix(apps[tr.name].URL, "http://")},
			Labels: map[string]string{"track": tr.name, "app": tr.app}})
	}
	return targets
}

// downTargets are the same jobs and labels on a port nothing listens on:
// Prometheus has their up series, at 0, and nothing else.
func downTargets(t *testing.T, healthy []testenv.ScrapeTarget) []testenv.ScrapeTarget {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	var out []testenv.ScrapeTarget
	for _, s := range healthy {
		s.Targets = []string{"127.0.0.1:" + strconv.Itoa(port)}
		out = append(out, s)
	}
	return out
}

// waitFor polls a PromQL expression until it has a sample.
func waitFor(t *testing.T, prom *testenv.Prometheus, expr string, timeout time.Duration) {
	t.Helper()
	client, err := promapi.NewClient(promapi.Config{Address: prom.URL})
	if err != nil {
		t.Fatal(err)
	}
	api := promv1.NewAPI(client)
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		v, _, _, err := api.Query(ctx, expr, time.Now())
		cancel()
		if vec, ok := v.(pmodel.Vector); err == nil && ok && len(vec) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no sample after %s (%v)", expr, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// instant is a query's answer as text, for the log.
func instant(t *testing.T, prom *testenv.Prometheus, expr string) string {
	client, err := promapi.NewClient(promapi.Config{Address: prom.URL})
	if err != nil {
		return err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, _, _, err := promv1.NewAPI(client).Query(ctx, expr, time.Now())
	if err != nil {
		return err.Error()
	}
	return v.String()
}

func platformModel(t *testing.T) *model.Model {
	t.Helper()
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, spec.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEnginesOnHealthyPlatform runs every generated canary check through
// the engines' own code: the AnalysisTemplate through Argo Rollouts'
// analysis controller (its Prometheus provider, its evaluation, its
// limits), and the MetricTemplates through Flagger's query rendering and
// Prometheus provider. Against a real Prometheus scraping the real
// exporter and a healthy two-track platform, every Argo metric is
// Successful without an Inconclusive measurement and every Flagger query
// has a value; on a Prometheus without any data, and on one whose targets
// are all down, no metric is Successful and every Flagger query is an
// error ("no values found", which halts the canary).
func TestEnginesOnHealthyPlatform(t *testing.T) {
	for _, bin := range []string{"initdb", "pgbouncer", "prometheus"} {
		testenv.Binary(t, bin)
	}
	m := platformModel(t)
	targets := healthyPlatform(t)
	proms := map[string]*testenv.Prometheus{
		"healthy": testenv.NewPrometheus(t, testenv.PrometheusOptions{Scrape: targets}),
		"no data": testenv.NewPrometheus(t, testenv.PrometheusOptions{}),
		"down":    testenv.NewPrometheus(t, testenv.PrometheusOptions{Scrape: downTargets(t, targets)}),
	}
	// Every source in place: a few scrapes of every target (rate() needs
	// two samples), the behind-column check done, the header probe run.
	for _, q := range []string{
		`min(count_over_time(up{job=~"platform|redline"}[1m])) >= 5 and count(up{job=~"platform|redline"} == 1) == 3`,
		`pg_database_sequences_behind_column{datname="trading"}`,
		`pg_database_schema_migrations_failed{datname="trading"}`,
		`redline_http_header_match`,
		`pgbouncer_pool_saturation_ratio{database="trading"}`,
		`histogram_quantile(0.95, sum by (le) (rate(redline_timer_lag_seconds_bucket[5m])))`,
	} {
		waitFor(t, proms["healthy"], q, 90*time.Second)
	}
	waitFor(t, proms["down"], `count_over_time(up[1m]) >= 2`, 30*time.Second)

	bin := buildEngines(t)
	names := []string{"healthy", "no data", "down"}
	var urls []string
	for _, n := range names {
		urls = append(urls, proms[n].URL)
	}
	t.Cleanup(func() {
		if t.Failed() {
			// What the event-loop checks read: the exporter's own timer lag
			// (its guard) and the probe durations.
			for _, q := range []string{
				`histogram_quantile(0.95, sum by (le) (rate(redline_timer_lag_seconds_bucket[5m])))`,
				`histogram_quantile(0.95, sum by (le) (rate(redline_eventloop_probe_duration_seconds_bucket[5m])))`,
				`sum(rate(redline_eventloop_probe_duration_seconds_count[5m]))`,
			} {
				t.Logf("%s = %s", q, instant(t, proms["healthy"], q))
			}
		}
	})
	starved := starvedChecks(t, m, proms["healthy"])
	t.Run("argo", func(t *testing.T) { argoRuns(t, bin, m, names, urls, starved) })
	for name := range starvedChecks(t, m, proms["healthy"]) {
		starved[name] = true
	}
	t.Run("flagger", func(t *testing.T) {
		flaggerQueries(t, bin, m, names, urls, starved)
	})
}

// buildEngines builds e2e/engines, the runner of the engines' own code
// (a module of its own: Argo Rollouts builds only with the versions it
// pins).
func buildEngines(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "engines")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = "engines"
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building e2e/engines: %v\n%s", err, out)
	}
	return bin
}

// engineMetric and engineRun are e2e/engines' report of an AnalysisRun.
type engineMetric struct {
	Name                                     string
	Phase                                    string
	Successful, Inconclusive, Failed, Errors int
	Last                                     string
}

type engineRun struct {
	Prometheus, Phase, Message string
	Metrics                    []engineMetric
}

// starvedChecks are the checks that have honestly no answer on this
// machine right now: the event-loop checks count the exporter's probes only
// while its own timers are on time (timer-lag P95 at most 10ms, the
// eventloop_lag guard), so an exporter starved of CPU (a loaded test
// machine) leaves them without data: Inconclusive while it lasts, and
// Successful again once the timers are on time (as when the starvation
// is the test's own start-up). They are allowed only when the guard's own
// query shows the starvation, and never as Failed or an error.
// guardedChecks are the checks whose signal has a guard (the event-loop
// checks): the ones starvation can leave without an answer.
func guardedChecks(m *model.Model) map[string]bool {
	out := map[string]bool{}
	for _, c := range m.Checks {
		for _, cond := range c.Alert.Conditions {
			if cond.Signal.Kind == spec.KindLatency && cond.Signal.Guard != nil {
				out[c.Alert.Name] = true
			}
		}
	}
	return out
}

// onlyGuardedUnknown says whether a run that is not Successful owes that
// only to guarded checks without an answer.
func onlyGuardedUnknown(run engineRun, guarded map[string]bool) bool {
	for _, r := range run.Metrics {
		if r.Failed > 0 || r.Errors > 0 || (r.Phase != "Successful" && !guarded[r.Name]) {
			return false
		}
	}
	return true
}

func starvedChecks(t *testing.T, m *model.Model, prom *testenv.Prometheus) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, sig := range m.Signals {
		if sig.Kind != spec.KindLatency || sig.Guard == nil {
			continue
		}
		if got := instant(t, prom, sig.Guard.Expr); strings.Contains(got, "=>") {
			continue // the guard holds: the checks must answer
		}
		t.Logf("signal %s: its guard %s keeps no series (the exporter is starved); its checks may be Inconclusive", sig.Name, sig.Guard.Expr)
		for _, c := range m.Checks {
			for _, cond := range c.Alert.Conditions {
				if cond.Signal == sig {
					out[c.Alert.Name] = true
				}
			}
		}
	}
	return out
}

// argoRuns gives Argo Rollouts' analysis controller one AnalysisRun per
// Prometheus, made from the generated template: the queries, conditions
// and limits as generated, the interval shortened to 1s and count set one
// past the inconclusiveLimit, so that a metric that never answers exceeds
// the limit within the run.
func argoRuns(t *testing.T, bin string, m *model.Model, names, urls []string, starved map[string]bool) {
	f, err := argo.RenderTemplate(m)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, _, err := argo.Template(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "analysistemplate.yml")
	if err := os.WriteFile(path, f.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "argo", "-template", path, "-prometheus", strings.Join(urls, ","),
		"-interval", "1s", "-count-over-limit", "1", "-timeout", "4m").Output()
	if err != nil {
		t.Fatalf("e2e/engines argo: %v\n%s", err, stderrOf(err))
	}
	var runs []engineRun
	if err := json.Unmarshal(out, &runs); err != nil || len(runs) != len(names) {
		t.Fatalf("e2e/engines argo: %v: %s", err, out)
	}
	guarded := guardedChecks(m)
	for i, run := range runs {
		name := names[i]
		if len(run.Metrics) != len(tmpl.Metrics) {
			t.Errorf("%s: %d metric results, want %d", name, len(run.Metrics), len(tmpl.Metrics))
		}
		if name == "healthy" {
			if run.Phase != "Successful" && len(starved) == 0 && !onlyGuardedUnknown(run, guarded) {
				t.Errorf("healthy run: %s (%s)", run.Phase, run.Message)
			}
			for _, r := range run.Metrics {
				// A guarded check is unknown while the exporter is starved and
				// Successful once its timers are on time again (the load of a
				// test machine comes and goes between two looks at the guard):
				// never a failure or an error, and all unknown only when the
				// guard was seen failing.
				if guarded[r.Name] && r.Failed == 0 && r.Errors == 0 && (r.Successful > 0 || starved[r.Name]) {
					continue
				}
				if r.Phase != "Successful" || r.Inconclusive > 0 || r.Failed > 0 || r.Errors > 0 {
					t.Errorf("healthy %s: %s, %d successful, %d inconclusive, %d failed, %d errors; last: %s",
						r.Name, r.Phase, r.Successful, r.Inconclusive, r.Failed, r.Errors, r.Last)
				}
			}
			continue
		}
		if run.Phase == "Successful" {
			t.Errorf("%s: the run is Successful", name)
		}
		for _, r := range run.Metrics {
			if r.Phase == "Successful" || r.Successful > 0 {
				t.Errorf("%s %s: %s with %d successful measurements; last: %s", name, r.Name, r.Phase, r.Successful, r.Last)
			}
		}
	}
}

// engineQuery is e2e/engines' report of one Flagger query.
type engineQuery struct {
	Prometheus, Name, Query string
	Value                   float64
	Error                   string
	NoValues                bool
}

// flaggerQueries renders every MetricTemplate for the platform's Canary
// with Flagger's own renderer and runs it with Flagger's own Prometheus
// provider, as its scheduler does each interval.
func flaggerQueries(t *testing.T, bin string, m *model.Model, names, urls []string, starved map[string]bool) {
	f, err := flagger.RenderMetrics(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "metrictemplates.yml")
	if err := os.WriteFile(path, f.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "flagger", "-templates", path, "-prometheus", strings.Join(urls, ","), "-target", "platform").Output()
	if err != nil {
		t.Fatalf("e2e/engines flagger: %v\n%s", err, stderrOf(err))
	}
	var qs []engineQuery
	if err := json.Unmarshal(out, &qs); err != nil {
		t.Fatalf("e2e/engines flagger: %v: %s", err, out)
	}
	ts, err := flagger.Templates(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != len(ts)*len(urls) {
		t.Fatalf("%d answers, want %d", len(qs), len(ts)*len(urls))
	}
	name := map[string]string{}
	for i, u := range urls {
		name[u] = names[i]
	}
	starvedTemplate := map[string]bool{}
	for _, c := range m.Checks {
		starvedTemplate[flagger.TemplateName(m, c)] = starved[c.Alert.Name]
	}
	for _, q := range qs {
		switch n := name[q.Prometheus]; {
		case n == "healthy" && q.NoValues && starvedTemplate[q.Name]:
			// unknown, which halts the canary: see starvedChecks
		case n == "healthy" && q.Error != "":
			t.Errorf("healthy %s: %s", q.Name, q.Error)
		case n == "healthy" && q.Value != 0:
			t.Errorf("healthy %s: %v, want 0 (thresholdRange max 0)", q.Name, q.Value)
		case n != "healthy" && !q.NoValues:
			t.Errorf("%s %s: value %v, error %q; want no values found", n, q.Name, q.Value, q.Error)
		}
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
