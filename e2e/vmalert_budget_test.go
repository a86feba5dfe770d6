package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// steadyTraffic serves the platform's request metrics growing at fixed
// rates: 50 requests/s, 0.5% of them slower than the 200ms threshold, and
// no 5xx at all (so no 5xx series, as client libraries do before the first
// one).
func steadyTraffic(t *testing.T) string {
	t.Helper()
	start := time.Now()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := 50 * time.Since(start).Seconds()
		var b strings.Builder
		b.WriteString("# TYPE http_requests_total counter\n")
		fmt.Fprintf(&b, "http_requests_total{status=\"200\"} %g\n", n)
		b.WriteString("# TYPE http_request_duration_seconds histogram\n")
		for _, bk := range []struct {
			le    string
			share float64
		}{{"0.05", 0.9}, {"0.1", 0.95}, {"0.2", 0.995}, {"0.5", 1}, {"+Inf", 1}} {
			fmt.Fprintf(&b, "http_request_duration_seconds_bucket{le=%q} %g\n", bk.le, bk.share*n)
		}
		fmt.Fprintf(&b, "http_request_duration_seconds_sum %g\nhttp_request_duration_seconds_count %g\n", 0.06*n, n)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(b.String()))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// instantAt asks a Prometheus-compatible query API for one expression at a
// time and returns its single value, ok false when it has none.
func instantAt(t *testing.T, base, expr string, at time.Time) (float64, bool) {
	t.Helper()
	q := url.Values{"query": {expr}, "time": {fmt.Sprintf("%.3f", float64(at.UnixMilli())/1000)}}
	resp, err := http.Get(base + "/api/v1/query?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Status != "success" {
		t.Fatalf("%s: %s: %s", base, expr, out.Error)
	}
	if len(out.Data.Result) != 1 {
		return 0, false
	}
	s, _ := out.Data.Result[0].Value[1].(string)
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		// NaN and ±Inf
		switch s {
		case "NaN":
			return math.NaN(), true
		case "+Inf":
			return math.Inf(1), true
		case "-Inf":
			return math.Inf(-1), true
		}
		t.Fatalf("%s: %s: value %q", base, expr, s)
	}
	return v, true
}

// TestVMAlertBudgetAgreesWithPrometheus runs the committed platform rules
// on Prometheus and on VictoriaMetrics with vmalert, both scraping the
// same healthy traffic, and compares every recording the SLO burn-rate
// and freeze alerts read. vmalert reads each rule's inputs back from
// storage, so a rule chained on another of its own group saw that rule's
// previous evaluation: the latency SLO's good rate was one sample short of
// its count, its 1h error ratio read 0.50 → 0.34 → 0.25 where Prometheus
// read 0.005, and ApiLatencyErrorBudgetFreeze reached the webhook after 21
// minutes of healthy traffic.
func TestVMAlertBudgetAgreesWithPrometheus(t *testing.T) {
	for _, bin := range []string{"prometheus", "victoria-metrics", "vmalert"} {
		testenv.Binary(t, bin)
	}
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, spec.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := filepath.Abs("../rules/platform.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	target := steadyTraffic(t)
	scrape := []testenv.ScrapeTarget{{Job: "platform", Targets: []string{target}}}
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{Scrape: scrape, RuleFiles: []string{rules}})
	vm := testenv.NewVictoriaMetrics(t, testenv.VictoriaMetricsOptions{Scrape: scrape})
	// vmalert needs somewhere to send alerts; the alerts are read from its
	// API below.
	sink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(sink.Close)
	vma := testenv.NewVMAlert(t, testenv.VMAlertOptions{RuleFiles: []string{rules}, Datasource: vm.URL, Notifiers: []string{sink.URL}})

	// What the SLO alerts read: the SLO group's recordings and the
	// recordings those read, but the time of each sample.
	compared := map[string]bool{}
	for _, r := range m.GroupRecordings(m.SLOGroup()) {
		compared[r.Record] = true
		e, err := spec.Parser.ParseExpr(r.Expr)
		if err != nil {
			t.Fatal(err)
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok && !strings.HasSuffix(vs.Name, "_timestamp") {
				for _, rec := range m.Recordings {
					if rec.Record == vs.Name {
						compared[vs.Name] = true
					}
				}
			}
			return nil
		})
	}

	// A minute and a half of history: a same-group chain shows at once (the
	// old rules read the latency ratio 0.078 on vmalert against 0.005 after
	// 150s, and the freeze pending).
	const history = 90 * time.Second
	time.Sleep(history)
	at := time.Now().Add(-3 * time.Second)
	coverage := func(base string, b *model.Budget) float64 {
		v, ok := instantAt(t, base, fmt.Sprintf("time() - min_over_time(%s[%s])", model.BudgetSampleTimeRecord(b.Signal), b.SLO.Period.String()), at)
		if !ok {
			t.Errorf("%s: no samples of %s", base, model.BudgetSampleTimeRecord(b.Signal))
			return 1
		}
		return v
	}
	for name := range compared {
		p, okP := instantAt(t, prom.URL, name, at)
		v, okV := instantAt(t, vm.URL, name, at)
		if !okP || !okV {
			t.Errorf("%s: Prometheus has a value: %v, VictoriaMetrics: %v", name, okP, okV)
			continue
		}
		tol := 0.01
		// The 5m rates themselves differ in their first window by each
		// engine's rate(): Prometheus divides the increase by the whole
		// window, MetricsQL by the time it covers. Every ratio of them
		// (what the alerts compare) agrees.
		if strings.HasSuffix(name, ":rate5m") && !strings.Contains(name, "error_ratio") {
			if (p == 0) != (v == 0) {
				t.Errorf("%s: Prometheus %g, VictoriaMetrics %g: want both 0 or both above", name, p, v)
			}
			t.Logf("%s: Prometheus %g, vmalert %g", name, p, v)
			continue
		}
		for _, b := range m.Budgets {
			if name == b.BurnRate {
				// The share of the budget spent scales with the history each
				// engine has recorded, which starts a scrape or two apart.
				cp, cv := coverage(prom.URL, b), coverage(vm.URL, b)
				tol += math.Abs(cp-cv) / math.Min(cp, cv)
				t.Logf("%s: covered %.1fs on Prometheus, %.1fs on VictoriaMetrics", name, cp, cv)
			}
		}
		diff := math.Abs(p - v)
		if scale := math.Max(math.Abs(p), math.Abs(v)); diff > tol*scale && diff > 1e-9 {
			t.Errorf("%s: Prometheus %g, vmalert %g: more than %.1f%% apart", name, p, v, 100*tol)
		} else {
			t.Logf("%s: Prometheus %g, vmalert %g", name, p, v)
		}
	}
	for _, base := range []string{prom.URL, vma.URL} {
		resp, err := http.Get(base + "/api/v1/alerts")
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
				} `json:"alerts"`
			} `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Data.Alerts {
			if a.Labels["slo"] != "" {
				t.Errorf("%s: SLO alert %s %s on healthy traffic", base, a.Labels["alertname"], a.State)
			}
		}
	}
}
