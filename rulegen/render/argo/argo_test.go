package argo_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/redline-sre/redline/internal/testenv"
	rmodel "github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/argo"
	"github.com/redline-sre/redline/rulegen/spec"
)

func loadModel(t *testing.T, path string) *rmodel.Model {
	t.Helper()
	s, err := spec.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rmodel.Build(s, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rates are the per-second rates each track's series grow by (high, so
// that a 5m rate over the few seconds Prometheus has scraped clears the
// low-traffic guard): healthy has 0.1% errors, failing 17% and 50%, idle has series that do not move (no
// traffic: below the low-traffic guard for http_errors, 0/0 for
// checkout_errors, which has no guard). A track named gone has no series.
var rates = map[string]map[string]float64{
	"stable":  {`http_requests_total{code="200"}`: 1000, `http_requests_total{code="500"}`: 1, `checkout_total{result="ok"}`: 2, `checkout_total{result="error"}`: 0.02},
	"healthy": {`http_requests_total{code="200"}`: 1000, `http_requests_total{code="500"}`: 1, `checkout_total{result="ok"}`: 2, `checkout_total{result="error"}`: 0.02},
	"failing": {`http_requests_total{code="200"}`: 1000, `http_requests_total{code="500"}`: 200, `checkout_total{result="ok"}`: 1, `checkout_total{result="error"}`: 1},
	"idle":    {`http_requests_total{code="200"}`: 0, `http_requests_total{code="500"}`: 0, `checkout_total{result="ok"}`: 0, `checkout_total{result="error"}`: 0},
}

// tracks serves the counters of every track as a scrape target; Prometheus
// keeps the track label, as it does when a pod label is copied onto the
// series.
func tracks(t *testing.T) *httptest.Server {
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		el := time.Since(start).Seconds()
		for track, series := range rates {
			for s, r := range series {
				name, labels, _ := strings.Cut(s, "{")
				fmt.Fprintf(w, "%s{track=%q,%s %g\n", name, track, labels, 100+r*el)
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fill puts the args into a query, as Argo Rollouts does before it sends it.
func fill(q, canary string) string {
	q = strings.ReplaceAll(q, "{{args."+argo.ArgCanary+"}}", canary)
	return strings.ReplaceAll(q, "{{args."+argo.ArgBaseline+"}}", "stable")
}

// argoResult turns a query answer into what Argo Rollouts' Prometheus
// provider passes its evaluator (metricproviders/prometheus: a vector is
// the list of its sample values).
func argoResult(t *testing.T, v model.Value) []float64 {
	t.Helper()
	vec, ok := v.(model.Vector)
	if !ok {
		t.Fatalf("answer is a %s, not a vector", v.Type())
	}
	out := []float64{}
	for _, s := range vec {
		out = append(out, float64(s.Value))
	}
	return out
}

// TestConditionsOnRealPrometheus runs every generated metric against a
// real Prometheus for each track and evaluates the answer with Argo
// Rollouts' own evaluator (utils/evaluate, expr-lang/expr): a healthy
// canary passes, a failing one fails, and a canary without traffic
// (empty answer) or with a NaN ratio is Inconclusive — never a pass, never
// a panic.
func TestConditionsOnRealPrometheus(t *testing.T) {
	m := loadModel(t, "testdata/shop.spec.yml")
	tmpl, _, err := argo.Template(m)
	if err != nil {
		t.Fatal(err)
	}
	srv := tracks(t)
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{
		Scrape: []testenv.ScrapeTarget{{Job: "shop", Targets: []string{strings.TrimPrefix(srv.URL, "http://")}}},
	})
	client, err := promapi.NewClient(promapi.Config{Address: prom.URL})
	if err != nil {
		t.Fatal(err)
	}
	api := promv1.NewAPI(client)
	ask := func(q string) model.Value {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		v, _, _, err := api.Query(ctx, q, time.Now())
		if err != nil {
			t.Fatalf("query %s: %v", q, err)
		}
		return v
	}
	// rate() needs two samples of every series in the window.
	deadline := time.Now().Add(90 * time.Second)
	for {
		v := ask(`min(count_over_time(http_requests_total[1m]))`)
		if vec, _ := v.(model.Vector); len(vec) == 1 && vec[0].Value >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus has not scraped the tracks three times in 90s")
		}
		time.Sleep(500 * time.Millisecond)
	}

	S, F, I := v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseInconclusive
	want := map[string]map[string]v1alpha1.AnalysisPhase{
		"HttpErrorsHigh":            {"healthy": S, "failing": F, "idle": I, "gone": I},
		"CheckoutErrorsHigh":        {"healthy": S, "failing": F, "idle": I, "gone": I},
		"HttpErrorsCanaryWorse":     {"healthy": S, "failing": F, "idle": I, "gone": I},
		"CheckoutErrorsCanaryWorse": {"healthy": S, "failing": F, "idle": I, "gone": I},
	}
	if len(tmpl.Metrics) != len(want) {
		t.Fatalf("%d metrics, want %d", len(tmpl.Metrics), len(want))
	}
	sawNaN, sawEmpty := false, false
	for _, mt := range tmpl.Metrics {
		for _, track := range []string{"healthy", "failing", "idle", "gone"} {
			res := argoResult(t, ask(fill(mt.Provider.Prometheus.Query, track)))
			got, err := argo.Evaluate(mt, res)
			if err != nil {
				t.Errorf("%s on %s: result %v: %v", mt.Name, track, res, err)
				continue
			}
			if got != want[mt.Name][track] {
				t.Errorf("%s on %s: result %v is %s, want %s", mt.Name, track, res, got, want[mt.Name][track])
			}
			if len(res) == 0 {
				sawEmpty = true
				// The trap the conditions avoid: indexing an empty
				// result is an error that aborts the rollout.
				naive := mt
				naive.SuccessCondition, naive.FailureCondition = "result[0] == 0", "result[0] > 0"
				if phase, _ := argo.Evaluate(naive, res); phase != v1alpha1.AnalysisPhaseError {
					t.Errorf("result[0] on an empty result is %s, want Error: the test no longer shows the trap", phase)
				}
			}
			if len(res) == 1 && math.IsNaN(res[0]) {
				sawNaN = true
			}
		}
	}
	if !sawNaN || !sawEmpty {
		t.Errorf("real answers covered NaN %v and empty %v; both must be exercised", sawNaN, sawEmpty)
	}
}

// TestFailureLimitFollowsFor: a metric may fail for as long as its
// trigger's for: lets the condition hold, measured every interval.
func TestFailureLimitFollowsFor(t *testing.T) {
	m := loadModel(t, "testdata/shop.spec.yml")
	tmpl, _, err := argo.Template(m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"HttpErrorsHigh": 1, "CheckoutErrorsHigh": 2, "HttpErrorsCanaryWorse": 4, "CheckoutErrorsCanaryWorse": 4}
	for _, mt := range tmpl.Metrics {
		if got := mt.FailureLimit.IntValue(); got != want[mt.Name] {
			t.Errorf("%s failureLimit %d, want %d", mt.Name, got, want[mt.Name])
		}
		if mt.Interval != "1m" || mt.InconclusiveLimit.IntValue() != 5 {
			t.Errorf("%s interval %s inconclusiveLimit %s, want 1m and 5 (one 5m stage)", mt.Name, mt.Interval, mt.InconclusiveLimit.String())
		}
	}
}

// TestValidateRejectsUnknownFields: the strict decode is what catches a
// field Argo Rollouts does not know (a typo a cluster would prune).
func TestValidateRejectsUnknownFields(t *testing.T) {
	m := loadModel(t, "testdata/shop.spec.yml")
	f, err := argo.RenderTemplate(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := argo.ValidateTemplate(f.Data); err != nil {
		t.Fatalf("the generated template does not validate: %v", err)
	}
	bad := strings.Replace(string(f.Data), "failureLimit:", "failureLimits:", 1)
	if err := argo.ValidateTemplate([]byte(bad)); err == nil || !strings.Contains(err.Error(), "failureLimits") {
		t.Errorf("an unknown field validates: %v", err)
	}
	r, err := argo.RenderRollout(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := argo.ValidateRollout(r.Data); err != nil {
		t.Fatalf("the generated Rollout patch does not validate: %v", err)
	}
	bad = strings.Replace(string(r.Data), "setWeight:", "weight:", 1)
	if err := argo.ValidateRollout([]byte(bad)); err == nil {
		t.Error("a Rollout patch with an unknown step field validates")
	}
}

// TestInconclusiveLimitBelowTheRun: Argo Rollouts counts a metric's
// Inconclusive measurements over the whole AnalysisRun and calls the
// metric Successful when the run reaches count (or is terminated at
// promotion) within the limit, so a limit as large as the run lets a
// metric that never answers pass. The default is one stage's worth, and
// always below the run's measurements.
func TestInconclusiveLimitBelowTheRun(t *testing.T) {
	for _, tc := range []struct {
		count     string
		run, want int
	}{
		{"", 15, 5}, // 3 stages of 5m at 1m; one stage's worth
		{"3", 3, 2}, // a count shorter than a stage
		{"1", 1, 0},
	} {
		m := loadModel(t, "testdata/shop.spec.yml")
		if tc.count != "" {
			q, err := spec.ParseQuantity(tc.count)
			if err != nil {
				t.Fatal(err)
			}
			m.Outputs.ArgoRollouts.Count = &q
			// A count this short needs a failure limit within it.
			zero, _ := spec.ParseQuantity("0")
			m.Outputs.ArgoRollouts.FailureLimit = &zero
		}
		tmpl, _, err := argo.Template(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := argo.RunMeasurements(m); got != tc.run {
			t.Errorf("count %q: %d measurements in the run, want %d", tc.count, got, tc.run)
		}
		for _, mt := range tmpl.Metrics {
			if got := mt.InconclusiveLimit.IntValue(); got != tc.want || got >= tc.run {
				t.Errorf("count %q: %s inconclusiveLimit %d, want %d (below the run's %d)", tc.count, mt.Name, got, tc.want, tc.run)
			}
		}
	}
}

// TestCountBelowFailureLimitIsAnError: Argo Rollouts rejects an
// AnalysisRun whose metric has count < failureLimit, so generating one
// is an error naming the metric.
func TestCountBelowFailureLimitIsAnError(t *testing.T) {
	m := loadModel(t, "testdata/shop.spec.yml")
	q, err := spec.ParseQuantity("3")
	if err != nil {
		t.Fatal(err)
	}
	m.Outputs.ArgoRollouts.Count = &q
	// CheckoutErrorsHigh's for: 3m at 1m allows 2 failures; the canary
	// comparisons allow 4.
	if _, _, err := argo.Template(m); err == nil || !strings.Contains(err.Error(), "failureLimit of HttpErrorsCanaryWorse (4") {
		t.Errorf("count 3 below a failureLimit of 4: %v", err)
	}
	q, _ = spec.ParseQuantity("4")
	m.Outputs.ArgoRollouts.Count = &q
	if _, _, err := argo.Template(m); err != nil {
		t.Errorf("count 4: %v", err)
	}
}
