package flagger_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/redline-sre/redline/internal/testenv"
	rmodel "github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/flagger"
	"github.com/redline-sre/redline/rulegen/spec"
)

// rates per second of each Flagger workload: <target> is the canary,
// <target>-primary the primary (the baseline of the comparisons). High
// rates keep a 5m rate over a few scraped seconds above the low-traffic
// guard.
func rates(target string) map[string]float64 {
	switch target {
	case "healthy", "failing-primary", "healthy-primary", "idle-primary":
		return map[string]float64{`http_requests_total{code="200"}`: 1000, `http_requests_total{code="500"}`: 1, `checkout_total{result="ok"}`: 2, `checkout_total{result="error"}`: 0.02}
	case "failing":
		return map[string]float64{`http_requests_total{code="200"}`: 1000, `http_requests_total{code="500"}`: 200, `checkout_total{result="ok"}`: 1, `checkout_total{result="error"}`: 1}
	}
	return map[string]float64{`http_requests_total{code="200"}`: 0, `http_requests_total{code="500"}`: 0, `checkout_total{result="ok"}`: 0, `checkout_total{result="error"}`: 0}
}

// flaggerDecision is what Flagger makes of an answer for a metric with
// thresholdRange max 0 (pkg/metrics/providers/prometheus.go RunQuery: the
// last sample's value, no sample or NaN is "no values found", which halts
// the step; pkg/controller/scheduler_metrics.go: a value above max halts
// it). Written out because Flagger's providers package imports every
// cloud provider's SDK.
func flaggerDecision(v model.Value) string {
	vec, _ := v.(model.Vector)
	if len(vec) == 0 || math.IsNaN(float64(vec[len(vec)-1].Value)) {
		return "no values"
	}
	if vec[len(vec)-1].Value > 0 {
		return "halt"
	}
	return "pass"
}

// TestTemplatesOnRealPrometheus renders every generated MetricTemplate
// for a canary target as Flagger does and asks a real Prometheus: a
// healthy canary passes, a failing one halts, an idle or missing one has
// no values (which Flagger counts as a failed check).
func TestTemplatesOnRealPrometheus(t *testing.T) {
	s, err := spec.LoadFile("testdata/shop.spec.yml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := rmodel.Build(s, "shop.spec.yml")
	if err != nil {
		t.Fatal(err)
	}
	templates, err := flagger.Templates(m)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		el := time.Since(start).Seconds()
		for _, app := range []string{"healthy", "healthy-primary", "failing", "failing-primary", "idle", "idle-primary"} {
			for series, r := range rates(app) {
				name, labels, _ := strings.Cut(series, "{")
				fmt.Fprintf(w, "%s{app=%q,%s %g\n", name, app, labels, 100+r*el)
			}
		}
	}))
	t.Cleanup(srv.Close)
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
	deadline := time.Now().Add(90 * time.Second)
	for {
		if vec, _ := ask(`min(count_over_time(http_requests_total[1m]))`).(model.Vector); len(vec) == 1 && vec[0].Value >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Prometheus has not scraped the workloads three times in 90s")
		}
		time.Sleep(500 * time.Millisecond)
	}
	want := map[string]string{"healthy": "pass", "failing": "halt", "idle": "no values", "gone": "no values"}
	for _, mt := range templates {
		for target, w := range want {
			q, err := flagger.Render(mt.Spec.Query, target)
			if err != nil {
				t.Fatal(err)
			}
			if got := flaggerDecision(ask(q)); got != w {
				t.Errorf("%s for target %s: %s, want %s", mt.Name, target, got, w)
			}
		}
	}
}
