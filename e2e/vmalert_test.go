package e2e

import (
	"context"
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
