package rulegen_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

const noDataSpec = `version: redline/v1
service: shop
signals:
  - name: http_errors
    kind: ratio
    errors: http_requests_total{job="shop", code=~"5.."}
    total: http_requests_total{job="shop"}
    threshold: 1%
slos:
  - name: availability
    signal: http_errors
    objective: 99.9%
    min_rate: 0.5
    no_data_for: 2s
alertmanager:
  webhook_url: http://localhost/hook
`

// TestSLIMissingOnRealPrometheus scrapes a target whose request counter
// stops being exported while the target keeps answering: the SLO's
// SliMissing alert is silent while the SLI has traffic and fires once its
// series are gone, though up stays 1 and no burn alert can fire.
func TestSLIMissingOnRealPrometheus(t *testing.T) {
	dir := generatedShop(t, noDataSpec)
	var requests atomic.Int64
	var stopped atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "# TYPE shop_build_info gauge\nshop_build_info 1")
		if !stopped.Load() {
			fmt.Fprintf(w, "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} %d\n", requests.Add(100))
		}
	}))
	defer target.Close()
	u, _ := url.Parse(target.URL)
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{
		RuleFiles: []string{filepath.Join(dir, "rules", "shop.rules.yml")},
		Scrape:    []testenv.ScrapeTarget{{Job: "shop", Targets: []string{u.Host}}},
	})
	state := func() string {
		resp, err := http.Get(prom.URL + "/api/v1/alerts")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string
					State  string
				}
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		for _, a := range body.Data.Alerts {
			if a.Labels["alertname"] == "AvailabilitySliMissing" {
				return a.State
			}
		}
		return ""
	}
	query := func(q string) int {
		resp, err := http.Get(prom.URL + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Data struct{ Result []json.RawMessage }
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return len(body.Data.Result)
	}
	// With traffic: the rate is recorded and the alert stays silent well
	// past its 2s for.
	deadline := time.Now().Add(30 * time.Second)
	for query("service:http_errors_total:rate5m > 0.5") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no traffic recorded after 30s")
		}
		time.Sleep(500 * time.Millisecond)
	}
	for range 8 {
		if s := state(); s != "" {
			t.Fatalf("AvailabilitySliMissing is %s while the SLI has traffic", s)
		}
		time.Sleep(500 * time.Millisecond)
	}
	stopped.Store(true)
	deadline = time.Now().Add(30 * time.Second)
	for state() != "firing" {
		if time.Now().After(deadline) {
			t.Fatalf("AvailabilitySliMissing not firing 30s after the SLI's series stopped (state %q)", state())
		}
		time.Sleep(500 * time.Millisecond)
	}
	if query(`up{job="shop"} == 1`) == 0 {
		t.Error("the target is not up: the test did not show the alert for a live target")
	}
}
