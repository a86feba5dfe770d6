package amconfig_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/demo"
	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/amconfig"
	"github.com/redline-sre/redline/rulegen/spec"
)

// TestFreezeRouteInRealAlertmanager renders the platform spec's fragment
// with the rollback and the freeze webhooks on two local servers, loads it
// into a real Alertmanager and posts a release freeze together with a
// critical alert and a rollback about the same signal (Prometheus is left
// out: when the freeze fires is what the promtool tests cover). The freeze
// reaches the freeze webhook and only it, the rollback only the rollback
// webhook, and no inhibit rule holds the freeze back.
func TestFreezeRouteInRealAlertmanager(t *testing.T) {
	rollback, freeze := demo.NewWebhook(nil), demo.NewWebhook(nil)
	rollbackSrv, freezeSrv := httptest.NewServer(rollback), httptest.NewServer(freeze)
	defer rollbackSrv.Close()
	defer freezeSrv.Close()
	text := strings.Replace(string(spec.DefaultSpec), "  webhook_url: http://rollback-webhook:9095/rollback\n",
		"  webhook_url: "+rollbackSrv.URL+"/rollback\n  freeze_webhook_url: "+freezeSrv.URL+"/freeze\n  group_wait: 1s\n", 1)
	s, err := spec.Load("platform.yml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := amconfig.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "am.yml")
	if err := os.WriteFile(cfg, f.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	am := testenv.NewAlertmanager(t, cfg)

	labels := func(a *model.Alert) map[string]string {
		l := map[string]string{"alertname": a.Name}
		maps.Copy(l, a.Labels)
		return l
	}
	freezeAlert := labels(m.AlertByName("ApiAvailabilityErrorBudgetFreeze"))
	var critical, rollbackAlert map[string]string
	for _, a := range m.Alerts {
		if a.Labels["signal"] != "http_errors" || a.Burn != nil || a.Budget != nil || len(a.SeriesLabels) > 0 {
			continue
		}
		if a.Labels["rollback"] == "true" && rollbackAlert == nil {
			rollbackAlert = labels(a)
		}
		if a.Labels["severity"] == "critical" && critical == nil {
			critical = labels(a)
		}
	}
	if critical == nil || rollbackAlert == nil {
		t.Fatal("the platform spec has no critical and rollback alert on http_errors")
	}
	type amAlert struct {
		Labels   map[string]string `json:"labels"`
		StartsAt time.Time         `json:"startsAt"`
		EndsAt   time.Time         `json:"endsAt"`
	}
	var posted []amAlert
	for _, l := range []map[string]string{critical, rollbackAlert, freezeAlert} {
		posted = append(posted, amAlert{Labels: l, StartsAt: time.Now().Add(-time.Minute), EndsAt: time.Now().Add(time.Hour)})
	}
	body, err := json.Marshal(posted)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(am.URL+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}

	named := func(name string) func(demo.Delivery) bool {
		return func(d demo.Delivery) bool { return d.Labels["alertname"] == name && d.Status == "firing" }
	}
	// Generous for a loaded machine; only a missing delivery waits this long.
	if _, ok := freeze.WaitFor(60*time.Second, named(freezeAlert["alertname"])); !ok {
		t.Fatalf("no freeze delivery within 60s; freeze webhook got %+v; log:\n%s", freeze.Deliveries(), am.Log())
	}
	if _, ok := rollback.WaitFor(60*time.Second, named(rollbackAlert["alertname"])); !ok {
		t.Fatalf("no rollback delivery within 60s; rollback webhook got %+v", rollback.Deliveries())
	}
	for _, d := range freeze.Deliveries() {
		if d.Labels["freeze"] != "true" {
			t.Errorf("the freeze webhook got %s, which freezes nothing", d.Labels["alertname"])
		}
	}
	for _, d := range rollback.Deliveries() {
		if d.Labels["freeze"] == "true" {
			t.Errorf("the rollback webhook got the freeze %s", d.Labels["alertname"])
		}
	}

	resp, err = http.Get(am.URL + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State       string   `json:"state"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range got {
		if maps.Equal(a.Labels, freezeAlert) {
			found = true
			if a.Status.State != "active" {
				t.Errorf("the freeze is %s (inhibited by %v) while %s fires; a freeze is never held back", a.Status.State, a.Status.InhibitedBy, critical["alertname"])
			}
		}
	}
	if !found {
		t.Errorf("Alertmanager does not list the freeze alert; got %+v", got)
	}
}
