package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/demo"
	"github.com/redline-sre/redline/internal/testenv"
)

// TestProbeOfResettingRoute: the platform's route resets every connection
// (a real loopback listener that accepts and aborts, not a mock). The
// prober records no duration for such requests, so the event-loop lag has
// nothing to judge and its triggers stay silent; the failure ratio over the
// requests sent is 100%, and the real Prometheus, loading the rules
// generated from the platform spec (only `for` shortened), fires
// EventLoopProbeFailing.
func TestProbeOfResettingRoute(t *testing.T) {
	testenv.Binary(t, "prometheus")
	route := testenv.ResettingListener(t, false)

	dir := t.TempDir()
	spec, err := demo.PlatformSpec(demo.SpecOverrides{For: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.GenerateInto(dir, "platform.yml", spec); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "redline_exporter.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("probes:\n  - name: platform\n    url: %q\n", "http://"+route+"/noop")), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	exporter, err := testenv.StartCommand("redline_exporter", exporterBin,
		[]string{"--config.file=" + cfg, "--web.listen-address=" + addr}, nil, "http://"+addr+"/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exporter.Stop() })
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{
		Scrape:    []testenv.ScrapeTarget{{Job: "redline", Targets: []string{addr}}},
		RuleFiles: []string{filepath.Join(dir, "rules", "platform.rules.yml")},
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("exporter log:\n%s\nprometheus log:\n%s", exporter.Log(), prom.Log())
		}
	})

	start := time.Now()
	firing := `ALERTS{alertname="EventLoopProbeFailing", alertstate="firing"}`
	deadline := start.Add(90 * time.Second)
	for {
		if v, ok := query(t, prom.URL, firing); ok && len(v) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("EventLoopProbeFailing not firing within 90s")
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("route resetting every connection → EventLoopProbeFailing firing in %s", time.Since(start).Round(100*time.Millisecond))

	if v, _ := query(t, prom.URL, `service:eventloop_probe_failures:ratio_rate5m`); len(v) != 1 || v[0] != 1 {
		t.Errorf("failure ratio = %v, want [1]", v)
	}
	if v, _ := query(t, prom.URL, `sum(redline_eventloop_probe_duration_seconds_count{probe="platform"})`); len(v) != 1 || v[0] != 0 {
		t.Errorf("probe durations recorded = %v, want [0]: a reset request has no duration", v)
	}
	if v, _ := query(t, prom.URL, `ALERTS{alertname=~"EventLoopBackpressure|AutoGuardLatencyCpuBackpressure"}`); len(v) != 0 {
		t.Errorf("a lag trigger is active without a single measured duration: %v", v)
	}
}

// query returns the sample values of an instant query, ok false when
// Prometheus did not answer.
func query(t *testing.T, base, q string) ([]float64, bool) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Status != "success" {
		return nil, false
	}
	vals := make([]float64, 0, len(out.Data.Result))
	for _, r := range out.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false
		}
		vals = append(vals, v)
	}
	return vals, true
}
