package preflight

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/config"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// shopSpec has one signal of each outcome: a healthy ratio, a latency read
// from a bucket the histogram does not have, a pool gauge with one pool
// over its threshold, and a gauge nobody exports.
const shopSpec = `version: redline/v1
service: shop
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{job="shop", code=~"5.."}
    total: http_requests_total{job="shop"}
    threshold: 1%
    min_rate: 1
  - name: latency
    kind: latency
    histogram: http_request_duration_seconds{job="shop"}
    quantile: 0.95
    threshold: 200ms
    bucket: true
  - name: pool_saturation
    kind: gauge
    metric: pool_saturation_ratio{job="shop"}
    by: [database]
    threshold: 90%
  - name: orders_filled
    kind: gauge
    metric: orders_filled_ratio{job="shop"}
    op: ">="
    threshold: 50%
triggers:
  - name: ShopErrors
    signal: errors
    for: 5m
    action: rollback
  - name: ShopSlow
    signal: latency
    for: 5m
    action: rollback
  - name: PoolSaturated
    signal: pool_saturation
    for: 1h
    action: page
  - name: OrdersFilledLow
    signal: orders_filled
    for: 5m
    action: ticket
alertmanager:
  webhook_url: http://127.0.0.1:9/hook
preflight:
  - name: clock_offset
    description: Host clocks within 50ms (node_exporter, not scraped here).
    expr: max(abs(clock_offset_seconds))
    threshold: 50ms
    required: false
  - name: pools_bounded
    expr: max by (database) (pool_saturation_ratio)
    threshold: 1
`

// healthySpec reads only the healthy signals of shopSpec (the same rules
// serve both: the recordings it needs are a subset).
const healthySpec = `version: redline/v1
service: shop
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{job="shop", code=~"5.."}
    total: http_requests_total{job="shop"}
    threshold: 1%
    min_rate: 1
  - name: pool_saturation
    kind: gauge
    metric: pool_saturation_ratio{job="shop"}
    by: [database]
    threshold: 90%
triggers:
  - name: ShopErrors
    signal: errors
    for: 5m
    action: rollback
  - name: PoolSaturated
    signal: pool_saturation
    for: 1h
    action: page
alertmanager:
  webhook_url: http://127.0.0.1:9/hook
`

// shop is the application Prometheus scrapes: real client_golang metrics,
// with traffic added at every scrape so that rates are never zero.
type shop struct {
	pools *prometheus.GaugeVec
	// budget stands in for the remaining-budget recording of an SLO named
	// shop_budget, which the budget check reads.
	budget prometheus.Gauge
	url    string
}

func startShop(t *testing.T) *shop {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"code"})
	// No 0.2 bucket: a latency threshold of 200ms read from a bucket
	// can never fire on this histogram.
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency.", Buckets: []float64{0.1, 0.25, 0.5}})
	s := &shop{pools: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "pool_saturation_ratio", Help: "Pool use."}, []string{"database"})}
	s.budget = prometheus.NewGauge(prometheus.GaugeOpts{Name: model.BudgetRemainingRecord(&spec.SLO{Name: "shop_budget"}), Help: "Remaining budget."})
	s.budget.Set(0.5)
	reg.MustRegister(requests, duration, s.pools, s.budget)
	requests.WithLabelValues("500")
	s.pools.WithLabelValues("orders").Set(0.5)
	s.pools.WithLabelValues("billing").Set(0.97)
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.WithLabelValues("200").Add(500)
		for range 10 {
			duration.Observe(0.05)
		}
		metrics.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.url = l.Addr().String()
	return s
}

func loadModel(t *testing.T, text string) *model.Model {
	t.Helper()
	s, err := spec.Load("test.yml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stack is the shop, and a real Prometheus scraping it and evaluating the
// rules generated from shopSpec.
type stack struct {
	shop *shop
	prom *testenv.Prometheus
}

func startStack(t *testing.T) *stack {
	t.Helper()
	testenv.Binary(t, "prometheus")
	dir := t.TempDir()
	s, err := spec.Load("shop.yml", []byte(shopSpec))
	if err != nil {
		t.Fatal(err)
	}
	files, err := rulegen.Generate(s, "shop.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := rulegen.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	sh := startShop(t)
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{
		Scrape:    []testenv.ScrapeTarget{{Job: "shop", Targets: []string{sh.url}}},
		RuleFiles: []string{filepath.Join(dir, "rules", "shop.rules.yml")},
	})
	return &stack{shop: sh, prom: prom}
}

// runUntil reruns the preflight until ok accepts the report.
func runUntil(t *testing.T, m *model.Model, o Options, ok func(*Report) bool) *Report {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		rep, err := Run(context.Background(), m, o)
		if err != nil {
			t.Fatal(err)
		}
		if ok(rep) {
			return rep
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			_ = WriteText(&b, rep)
			t.Fatalf("preflight never as expected:\n%s", b.String())
		}
		time.Sleep(time.Second)
	}
}

func statusOf(rep *Report, check string) *Result {
	for _, r := range rep.Results {
		if r.Check == check {
			return r
		}
	}
	return nil
}

// settled says the recordings have data: the ratio's traffic is judged
// and the saturated pool's condition holds.
func settled(rep *Report) bool {
	errs, pool := statusOf(rep, "signal:errors"), statusOf(rep, "trigger:PoolSaturated")
	return errs != nil && errs.Status == GO && pool != nil && pool.Status == NoGo
}

func TestPreflightAgainstPrometheus(t *testing.T) {
	st := startStack(t)
	m := loadModel(t, shopSpec)
	o := Options{Server: Server{URL: st.prom.URL}, Timeout: 30 * time.Second}
	rep := runUntil(t, m, o, settled)

	want := map[string]struct {
		status   Status
		required bool
		detail   string
	}{
		"rules:loaded":            {GO, true, ""},
		"target:shop":             {GO, true, ""},
		"signal:errors":           {GO, true, ""},
		"signal:latency":          {NoGo, true, "no bucket with le=0.2"},
		"signal:pool_saturation":  {GO, true, ""},
		"signal:orders_filled":    {Unknown, true, `no series matches orders_filled_ratio{job="shop"}`},
		"trigger:ShopErrors":      {GO, true, ""},
		"trigger:ShopSlow":        {Unknown, true, "signal latency cannot be judged"},
		"trigger:PoolSaturated":   {NoGo, true, `{database="billing"} = 97%`},
		"trigger:OrdersFilledLow": {Unknown, false, "signal orders_filled cannot be judged"},
		"preflight:clock_offset":  {Unknown, false, "no series"},
		"preflight:pools_bounded": {GO, true, ""},
	}
	for name, w := range want {
		r := statusOf(rep, name)
		if r == nil {
			t.Errorf("no check %s", name)
			continue
		}
		if r.Status != w.status || r.Required != w.required || !strings.Contains(r.Detail, w.detail) {
			t.Errorf("%s: %s required=%t %q; want %s required=%t containing %q", name, r.Status, r.Required, r.Detail, w.status, w.required, w.detail)
		}
	}
	if len(rep.Results) != len(want) {
		t.Errorf("%d checks, want %d", len(rep.Results), len(want))
	}
	if rep.Decision != NoGo {
		t.Errorf("decision %s, want NO-GO", rep.Decision)
	}
	if r := statusOf(rep, "signal:latency"); !strings.Contains(r.Detail, "add 0.2 to the histogram's buckets") {
		t.Errorf("the missing bucket does not name the fix: %s", r.Detail)
	}

	t.Run("evidence", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "evidence")
		o := o
		o.EvidenceDir = dir
		runUntil(t, m, o, settled)
		checkEvidenceGolden(t, dir)
	})

	t.Run("bearer token from a file", func(t *testing.T) {
		proxied := bearerProxy(t, st.prom.URL, "tok-3141")
		rep := runUntil(t, m, Options{Server: Server{URL: proxied, Config: bearerConfig(t, "tok-3141")}}, settled)
		if rep.Prometheus != proxied {
			t.Errorf("report names %s, want %s", rep.Prometheus, proxied)
		}
		_, err := Run(context.Background(), m, Options{Server: Server{URL: proxied, Config: bearerConfig(t, "wrong")}})
		var ue *UnreachableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "credentials refused") {
			t.Errorf("wrong token: %v, want credentials refused", err)
		}
	})

	t.Run("TLS with a CA file", func(t *testing.T) {
		proxied, ca := tlsProxy(t, st.prom.URL)
		cfg := config.DefaultHTTPClientConfig
		cfg.TLSConfig.CAFile = ca
		runUntil(t, m, Options{Server: Server{URL: proxied, Config: cfg}}, settled)
		_, err := Run(context.Background(), m, Options{Server: Server{URL: proxied}})
		var ue *UnreachableError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("without the CA: %v, want unreachable (certificate)", err)
		}
	})

	t.Run("a warned or partial answer is UNKNOWN, naming the warning", func(t *testing.T) {
		for _, tc := range []struct{ name, field, warning string }{
			{"Prometheus warning", "warnings", "PromQL warning: encountered a mix of histograms and floats"},
			{"Thanos partial response", "warnings", "partial response: fetching series from store 10.0.0.7:10901: rpc error: code = Unavailable"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rep := runUntil(t, m, Options{Server: Server{URL: testenv.NewWarningProxy(t, st.prom.URL, tc.field, tc.warning).URL}}, func(r *Report) bool {
					pool := statusOf(r, "trigger:PoolSaturated")
					return pool != nil && pool.Status == NoGo
				})
				for _, name := range []string{"signal:errors", "signal:pool_saturation", "trigger:ShopErrors", "preflight:pools_bounded"} {
					r := statusOf(rep, name)
					if r == nil || r.Status != Unknown {
						t.Errorf("%s: %+v, want UNKNOWN", name, r)
						continue
					}
					if name != "trigger:ShopErrors" && !strings.Contains(r.Detail, tc.warning) {
						t.Errorf("%s: %q does not name the warning", name, r.Detail)
					}
				}
				// A breach on part of the data is still a breach.
				if r := statusOf(rep, "trigger:PoolSaturated"); r.Status != NoGo {
					t.Errorf("trigger:PoolSaturated: %s, want NO-GO", r.Status)
				}
				if rep.Decision == GO {
					t.Errorf("decision GO on warned answers")
				}
			})
		}
		t.Run("PromQL info only", func(t *testing.T) {
			info := "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket"
			runUntil(t, m, Options{Server: Server{URL: testenv.NewWarningProxy(t, st.prom.URL, "infos", info).URL}}, settled)
		})
	})

	t.Run("a slow Prometheus: the verdict, the report and the evidence agree", func(t *testing.T) {
		// The signals' source counts and the targets API answer after 3s,
		// beyond the 500ms query timeout; everything else at once.
		proxied := slowProxy(t, st.prom.URL, 3*time.Second, func(r *http.Request) bool {
			return strings.HasSuffix(r.URL.Path, "/api/v1/targets") || slowQuery(r, "count(")
		})
		dir := filepath.Join(t.TempDir(), "evidence")
		rep, err := Run(context.Background(), m, Options{Server: Server{URL: proxied}, Timeout: 20 * time.Second, QueryTimeout: 500 * time.Millisecond, EvidenceDir: dir})
		if err != nil {
			t.Fatalf("a slow answer is not an error of the run: %v", err)
		}
		if rep.Decision != NoGo {
			t.Errorf("decision %s with checks that timed out", rep.Decision)
		}
		sig := statusOf(rep, "signal:errors")
		if sig.Status != Unknown || !strings.Contains(sig.Detail, "timed out after --query-timeout 500ms") {
			t.Errorf("signal:errors %s %q; want UNKNOWN saying the query timed out", sig.Status, sig.Detail)
		}
		if !slices.ContainsFunc(rep.EvidenceNotRead, func(s string) bool {
			return strings.HasPrefix(s, "prom_targets.txt: ") && strings.Contains(s, "timed out")
		}) {
			t.Errorf("evidence not read: %q; want prom_targets.txt with why", rep.EvidenceNotRead)
		}
		sums, err := os.ReadFile(filepath.Join(dir, EvidenceManifest))
		if err != nil {
			t.Fatalf("no manifest: %v", err)
		}
		for _, name := range []string{EvidenceReport, EvidenceJSON, "prom_targets.txt", "checks/signal_errors.txt"} {
			if !strings.Contains(string(sums), "  "+name+"\n") {
				t.Errorf("the manifest lacks %s:\n%s", name, sums)
			}
		}
		text, _ := os.ReadFile(filepath.Join(dir, EvidenceReport))
		if !strings.Contains(string(text), "evidence not read") || !strings.Contains(string(text), "\nNO-GO: ") {
			t.Errorf("preflight.txt does not say what was not read, or not NO-GO:\n%s", text)
		}
		chk, _ := os.ReadFile(filepath.Join(dir, EvidenceChecks, "signal_errors.txt"))
		if !strings.Contains(string(chk), "error: query count(") {
			t.Errorf("checks/signal_errors.txt does not keep the failed query:\n%s", chk)
		}
	})

	t.Run("watch stops at the first NO-GO", func(t *testing.T) {
		healthy := loadModel(t, healthySpec)
		st.shop.pools.WithLabelValues("billing").Set(0.5)
		t.Cleanup(func() { st.shop.pools.WithLabelValues("billing").Set(0.97) })
		runUntil(t, healthy, o, func(r *Report) bool { return r.Decision == GO })
		rounds := 0
		dir := t.TempDir()
		wo := o
		wo.EvidenceDir = dir
		rep, err := Watch(context.Background(), healthy, wo, 10*time.Minute, 200*time.Millisecond, func(r *Report) error {
			rounds++
			if rounds == 2 {
				st.shop.pools.WithLabelValues("billing").Set(0.97)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Decision != NoGo || rounds < 3 {
			t.Errorf("watch ended with %s after %d rounds, want NO-GO after at least 3", rep.Decision, rounds)
		}
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("round-%03d", rounds), EvidenceManifest)); err != nil {
			t.Errorf("the NO-GO round has no evidence: %v", err)
		}
		// A watch that stays GO ends GO after its duration.
		st.shop.pools.WithLabelValues("billing").Set(0.5)
		runUntil(t, healthy, o, func(r *Report) bool { return r.Decision == GO })
		rounds = 0
		end := time.Now().Add(2 * time.Second).Truncate(time.Millisecond)
		rep, err = Watch(context.Background(), healthy, o, 2*time.Second, 500*time.Millisecond, func(*Report) error { rounds++; return nil })
		if err != nil || rep.Decision != GO || rounds < 2 {
			t.Errorf("GO watch: %v, %v after %d rounds", err, rep.Decision, rounds)
		}
		// The stage is observed through its end: the last round is at or
		// after it, not an interval before.
		if rep.Time.Before(end) {
			t.Errorf("the last round of a 2s watch ran at %s, %s before its end", rep.Time, end.Sub(rep.Time))
		}
	})

	t.Run("the budget check holds releases below freeze_below", func(t *testing.T) {
		c, err := connect(o.Server)
		if err != nil {
			t.Fatal(err)
		}
		judge := func(o *spec.SLO) (*Check, Outcome) {
			chk := sloBudgetCheck(&model.Model{}, o)
			return chk, chk.run(context.Background(), &env{c: c, at: time.Now(), timeout: 10 * time.Second})
		}
		freezing := &spec.SLO{Name: "shop_budget", FreezeBelow: &spec.DefaultFreezeBelow}
		off, err := spec.ParseQuantity("0") // freeze_below: 0
		if err != nil {
			t.Fatal(err)
		}
		notFreezing := &spec.SLO{Name: "shop_budget", FreezeBelow: &off}
		for _, tc := range []struct {
			left     float64
			slo      *spec.SLO
			status   Status
			required bool
		}{
			{0.5, freezing, GO, true},
			{0.05, freezing, NoGo, true},
			{0.05, notFreezing, GO, false},
			{-0.1, notFreezing, NoGo, false},
		} {
			st.shop.budget.Set(tc.left)
			var chk *Check
			var out Outcome
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				chk, out = judge(tc.slo)
				if out.Value == formatValue(tc.left*100)+"%" || time.Now().After(deadline) {
					break
				}
			}
			if out.Status != tc.status || chk.Required != tc.required {
				t.Errorf("%v left, freeze_below %s: %s required=%t (%s); want %s required=%t",
					tc.left, tc.slo.FreezeBelow.Text, out.Status, chk.Required, out.Detail, tc.status, tc.required)
			}
		}
		st.shop.budget.Set(0.5)
	})

	t.Run("GO once the pool is back", func(t *testing.T) {
		st.shop.pools.WithLabelValues("billing").Set(0.5)
		t.Cleanup(func() { st.shop.pools.WithLabelValues("billing").Set(0.97) })
		rep := runUntil(t, loadModel(t, healthySpec), o, func(r *Report) bool { return r.Decision == GO })
		for _, r := range rep.Results {
			if r.Status != GO {
				t.Errorf("%s is %s in a GO report", r.Check, r.Status)
			}
		}
	})
}

func TestPreflightUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = Run(context.Background(), loadModel(t, healthySpec), Options{Server: Server{URL: "http://user:s3cret@" + addr}})
	ue, ok := err.(*UnreachableError)
	if !ok {
		t.Fatalf("error %v (%T), want *UnreachableError", err, err)
	}
	if strings.Contains(ue.Error(), "s3cret") || strings.Contains(ue.Error(), "user:") {
		t.Errorf("the error shows the credentials: %v", ue)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}
