package preflight

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// trackSpec is another service than the platform: an error ratio and a
// p95 latency per track, a canary section, no database at all. LATENCY is
// the latency threshold, so that rules generated for one spec can be
// loaded while the preflight reads another.
const trackSpec = `version: redline/v1
service: tracks
selectors:
  app: job="tracks"
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{${app}, code=~"5.."}
    total: http_requests_total{${app}}
    threshold: 1%
    min_rate: 1
  - name: latency
    kind: latency
    histogram: http_request_duration_seconds{${app}}
    quantile: 0.95
    threshold: LATENCY
    min_rate: 1
  # No request has ever been answered 503: client libraries create that
  # series at the first one, so it does not exist.
  - name: unavailable
    kind: ratio
    errors: http_requests_total{${app}, code="503"}
    total: http_requests_total{${app}}
    threshold: 5%
triggers:
  - name: TracksErrors
    signal: errors
    for: 5m
    action: rollback
  - name: TracksSlow
    signal: latency
    for: 5m
    action: rollback
slos:
  - name: availability
    signal: unavailable
    objective: 99.9%
    # A warning, not a freeze: the canary's checks decide this test.
    freeze_below: 0
canary:
  label: track
  canary: canary
  baseline: stable
  steps: [50%, 100%]
  step_duration: 15m
  selectors: [app]
alertmanager:
  webhook_url: http://127.0.0.1:9/hook
`

func trackSpecWith(latency string) string { return strings.ReplaceAll(trackSpec, "LATENCY", latency) }

// trackApp serves both tracks: the stable one healthy at 1000 requests a
// scrape, the canary at 4 (0.4 % of the traffic, so the service's own
// error ratio stays under 1 % whatever the canary does) failing when
// failing is set.
type trackApp struct {
	failing atomic.Bool
	url     string
}

func startTrackApp(t *testing.T) *trackApp {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"code", "track"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency.", Buckets: []float64{0.1, 0.2, 0.25, 0.5, 1}}, []string{"track"})
	reg.MustRegister(requests, duration)
	for _, tr := range []string{"stable", "canary"} {
		requests.WithLabelValues("500", tr)
	}
	a := &trackApp{}
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.WithLabelValues("200", "stable").Add(1000)
		code := "200"
		if a.failing.Load() {
			code = "500"
		}
		requests.WithLabelValues(code, "canary").Add(4)
		for range 20 {
			duration.WithLabelValues("stable").Observe(0.15)
			duration.WithLabelValues("canary").Observe(0.15)
		}
		// 459ms at the stable track's p95 would need most of the
		// requests slow; one slow request in 20 keeps the p95 near 230ms.
		duration.WithLabelValues("stable").Observe(0.3)
		metrics.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	a.url = l.Addr().String()
	return a
}

// TestPreflightCanaryAndRules runs against a real Prometheus that loaded
// the rules generated for a 200ms latency threshold: every canary alert
// is a check, and --watch stops on it; rules generated from another spec
// (250ms) are NO-GO naming the rule; values print in the thresholds'
// units; the evidence has no table of the platform's.
func TestPreflightCanaryAndRules(t *testing.T) {
	testenv.Binary(t, "prometheus")
	dir := t.TempDir()
	s, err := spec.Load("tracks.yml", []byte(trackSpecWith("200ms")))
	if err != nil {
		t.Fatal(err)
	}
	files, err := rulegen.Generate(s, "tracks.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := rulegen.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	app := startTrackApp(t)
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{
		Scrape:    []testenv.ScrapeTarget{{Job: "tracks", Targets: []string{app.url}}},
		RuleFiles: []string{filepath.Join(dir, "rules", "tracks.rules.yml")},
	})
	m := loadModel(t, trackSpecWith("200ms"))
	o := Options{Server: Server{URL: prom.URL}, Timeout: 30 * time.Second}
	healthy := func(r *Report) bool { return r.Decision == GO }
	rep := runUntil(t, m, o, healthy)
	for _, name := range []string{"canary:ErrorsCanaryWorse", "canary:LatencyCanaryWorse"} {
		if r := statusOf(rep, name); r == nil || !r.Required {
			t.Errorf("no required check %s in %v", name, checkNames(rep))
		}
	}
	if r := statusOf(rep, "canary:ErrorsCanaryWorse"); r != nil && !strings.HasSuffix(r.Value, "%") {
		t.Errorf("the canary's error ratio is not in percent: %q", r.Value)
	}

	t.Run("values in the thresholds' units", func(t *testing.T) {
		r := statusOf(rep, "signal:latency")
		if r == nil || r.Status != GO {
			t.Fatalf("signal:latency %+v", r)
		}
		slow := loadModel(t, strings.Replace(trackSpecWith("200ms"), "threshold: 200ms", "threshold: 100ms", 1))
		// The loaded rules' threshold is 200ms; evaluate the trigger of
		// a spec whose threshold (100ms) the traffic exceeds.
		for _, chk := range Checks(slow) {
			if chk.Name != "trigger:TracksSlow" {
				continue
			}
			c, err := connect(o.Server)
			if err != nil {
				t.Fatal(err)
			}
			out := chk.run(context.Background(), &env{c: c, at: time.Now(), timeout: 10 * time.Second, signals: map[string]Outcome{}})
			if out.Status != NoGo || !strings.HasSuffix(out.Value, "ms") || !strings.Contains(chk.Threshold, "100ms") {
				t.Errorf("TracksSlow over 100ms: %s value %q (healthy when %q): %s; want NO-GO with a value in ms", out.Status, out.Value, chk.Threshold, out.Detail)
			}
		}
		errs := statusOf(rep, "trigger:TracksErrors")
		if !strings.Contains(errs.Threshold, "1%") {
			t.Errorf("trigger:TracksErrors healthy when %q", errs.Threshold)
		}
	})

	t.Run("a budget not recorded says why", func(t *testing.T) {
		b := statusOf(rep, "slo:availability:budget")
		if b == nil {
			t.Fatalf("no budget check in %v", checkNames(rep))
		}
		// Rules that read a missing error series as 0 record the budget
		// (GO); rules that do not must say so, not blame the rules' age.
		if b.Status != GO && (!strings.Contains(b.Detail, `no series matches http_requests_total{job="tracks", code="503"}`) || strings.Contains(b.Detail, "generated before")) {
			t.Errorf("budget %s: %s; want the missing error series named as the cause", b.Status, b.Detail)
		}
	})

	t.Run("rules generated from another spec are NO-GO", func(t *testing.T) {
		r := runUntil(t, loadModel(t, trackSpecWith("250ms")), o, func(r *Report) bool { return statusOf(r, "rules:loaded").Status != GO })
		got := statusOf(r, "rules:loaded")
		if got.Status != NoGo || !strings.Contains(got.Detail, "TracksSlow") || !strings.Contains(got.Detail, "0.25") {
			t.Errorf("rules for 200ms loaded, spec 250ms: %s %s; want NO-GO naming TracksSlow and 0.25", got.Status, got.Detail)
		}
		if got := statusOf(rep, "rules:loaded"); got.Status != GO {
			t.Errorf("the rules of this very spec: %s %s", got.Status, got.Detail)
		}
	})

	t.Run("evidence of another service has no platform table", func(t *testing.T) {
		ev := filepath.Join(t.TempDir(), "ev")
		eo := o
		eo.EvidenceDir = ev
		eo.SpecSHA256 = strings.Repeat("ab", 32)
		runUntil(t, m, eo, healthy)
		for _, name := range []string{"pgbouncer_pools.tsv", "sequences.txt", "pg_dead_tuples_top5.txt"} {
			if _, err := os.Stat(filepath.Join(ev, name)); err == nil {
				t.Errorf("%s written for a spec that reads no such metric", name)
			}
		}
		targets, err := os.ReadFile(filepath.Join(ev, "prom_targets.txt"))
		if err != nil || !strings.Contains(string(targets), "tracks") {
			t.Errorf("prom_targets.txt: %v\n%s", err, targets)
		}
		sigs, err := os.ReadFile(filepath.Join(ev, EvidenceSignals))
		if err != nil || !strings.Contains(string(sigs), "latency") || !strings.Contains(string(sigs), "%") {
			t.Errorf("%s: %v\n%s", EvidenceSignals, err, sigs)
		}
		text, _ := os.ReadFile(filepath.Join(ev, EvidenceReport))
		if !strings.Contains(string(text), "(spec sha256 "+eo.SpecSHA256+")") {
			t.Errorf("preflight.txt does not print the spec's full sha256: %s", strings.SplitN(string(text), "\n", 2)[0])
		}
	})

	t.Run("a failing canary is NO-GO and stops the watch", func(t *testing.T) {
		// A round that a loaded machine answers too slowly is UNKNOWN and
		// stops the watch too; such a watch is run again.
		var wrep *Report
		var c *Result
		for deadline := time.Now().Add(90 * time.Second); ; {
			rounds := 0
			var err error
			wrep, err = Watch(context.Background(), m, o, 2*time.Minute, 300*time.Millisecond, func(r *Report) error {
				rounds++
				if rounds == 2 {
					app.failing.Store(true)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			c = statusOf(wrep, "canary:ErrorsCanaryWorse")
			if c != nil && c.Status == NoGo || time.Now().After(deadline) {
				break
			}
			app.failing.Store(false)
			time.Sleep(time.Second)
		}
		t.Cleanup(func() { app.failing.Store(false) })
		if wrep.Decision != NoGo || c == nil || c.Status != NoGo {
			var b strings.Builder
			_ = WriteText(&b, wrep)
			t.Fatalf("watch ended %s; want NO-GO on canary:ErrorsCanaryWorse:\n%s", wrep.Decision, b.String())
		}
		if !strings.Contains(c.Detail, "canary is worse now") || !strings.HasSuffix(c.Value, "%") {
			t.Errorf("canary check: %q %q", c.Value, c.Detail)
		}
		// The service's own ratio is still under its threshold: only the
		// canary check sees the canary.
		if tr := statusOf(wrep, "trigger:TracksErrors"); tr.Status != GO {
			t.Errorf("trigger:TracksErrors %s: %s (the test's traffic is wrong)", tr.Status, tr.Detail)
		}
	})
}

func checkNames(r *Report) []string {
	var out []string
	for _, res := range r.Results {
		out = append(out, res.Check)
	}
	return out
}

// TestEvidenceTablesFromTheSpec: the exporter-side tables are those the
// spec's signals read, scoped by the matchers their selectors share.
func TestEvidenceTablesFromTheSpec(t *testing.T) {
	sp, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	platform, err := model.Build(sp, spec.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	other := loadModel(t, trackSpecWith("200ms"))
	for _, tb := range tables {
		if !readsFamily(platform, tb.reads) {
			t.Errorf("the platform spec reads %v, but %s is left out", tb.reads, tb.name)
		}
		if readsFamily(other, tb.reads) {
			t.Errorf("%s written for a service that reads no %v", tb.name, tb.reads)
		}
	}
	for _, prefix := range []string{"pg_", "pgbouncer_"} {
		if got := scope(platform, prefix); got != `{job="redline"}` {
			t.Errorf("scope %s = %s, want the exporter's job only", prefix, got)
		}
	}
}
