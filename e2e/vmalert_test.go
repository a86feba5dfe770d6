package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/demo"
)

// TestRollbackChainOnVMAlert is the rollback chain with VictoriaMetrics in
// Prometheus's place: victoria-metrics scrapes the exporter and the
// platform, vmalert evaluates the generated rule file against it (its
// recording rules written back through remote write), and the generated
// Alertmanager route delivers the rollback to the webhook. The rules are
// the same file Prometheus loads; docs/kubernetes.md says where MetricsQL
// reads them differently.
func TestRollbackChainOnVMAlert(t *testing.T) {
	ctx := context.Background()
	s := startStackOn(t, true)

	start := time.Now()
	defer rulesEvaluate(t, s.VMAlert.URL)
	sat, err := demo.Saturate(ctx, s.AppDSN, 2*demo.TradingPoolSize+1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fired, ok := s.Webhook.WaitFor(120*time.Second, alert("PgBouncerPoolSaturated", "firing"))
	sat.Stop()
	if !ok {
		t.Fatalf("no PgBouncerPoolSaturated rollback webhook from vmalert within 120s; got %+v", s.Webhook.Deliveries())
	}
	t.Logf("pool saturated → vmalert → rollback webhook in %s", fired.Received.Sub(start).Round(100*time.Millisecond))
	for k, want := range map[string]string{"rollback": "true", "action": "rollback", "service": "platform", "severity": "critical", "database": demo.TradingDB} {
		if got := fired.Labels[k]; got != want {
			t.Errorf("webhook label %s = %q, want %q (labels %v)", k, got, want, fired.Labels)
		}
	}
	if fired.Annotations["summary"] == "" || fired.Annotations["description"] == "" {
		t.Errorf("webhook alert lacks summary/description: %v", fired.Annotations)
	}

	planted := time.Now()
	if _, err := demo.PlantSequenceBehind(ctx, s.TradingDSN, "fills"); err != nil {
		t.Fatal(err)
	}
	seq, ok := s.Webhook.WaitFor(120*time.Second, alert("SequenceBehindColumn", "firing"))
	if !ok {
		t.Fatalf("no SequenceBehindColumn rollback webhook from vmalert within 120s; got %+v", s.Webhook.Deliveries())
	}
	t.Logf("sequence planted → vmalert → rollback webhook in %s", seq.Received.Sub(planted).Round(100*time.Millisecond))
	for k, want := range map[string]string{"rollback": "true", "datname": demo.TradingDB, "table": "fills", "column": "id"} {
		if got := seq.Labels[k]; got != want {
			t.Errorf("webhook label %s = %q, want %q (labels %v)", k, got, want, seq.Labels)
		}
	}
}

// rulesEvaluate checks, through vmalert's Prometheus-compatible rules API,
// that every generated rule evaluates on VictoriaMetrics without an error:
// MetricsQL parsed them all at startup, this is their evaluation.
func rulesEvaluate(t *testing.T, vmalert string) {
	t.Helper()
	resp, err := http.Get(vmalert + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name      string `json:"name"`
					LastError string `json:"lastError"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range out.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.LastError != "" {
				t.Errorf("vmalert: %s/%s: %s", g.Name, r.Name, r.LastError)
			}
		}
	}
	data, err := os.ReadFile("../rules/platform.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Count(string(data), "\n      - record: ") + strings.Count(string(data), "\n      - alert: "); n != want {
		t.Errorf("vmalert reports %d rules; the platform rule file has %d", n, want)
	}
	t.Logf("vmalert evaluated %d rules without an error", n)
}
