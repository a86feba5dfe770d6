package amconfig

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// amAlert is an alert as Alertmanager's v2 API takes and returns it.
type amAlert struct {
	Labels   map[string]string `json:"labels"`
	StartsAt time.Time         `json:"startsAt,omitzero"`
	EndsAt   time.Time         `json:"endsAt,omitzero"`
	Status   *struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status,omitempty"`
}

// TestInhibitedByInRealAlertmanager loads the committed
// alertmanager/platform.yml into a real Alertmanager, posts the platform's
// alerts with the labels the generated rules give them (Prometheus itself
// is left out: which alert fires when is what the promtool tests cover),
// and reads back which are held back. It proves each kind of inhibited_by
// pair: a cause holds back its effect, about the same target only; a
// per-pod PlatformTargetDown does not hide a missing API counter, which only
// the fleet-wide PlatformDown explains; and the effect pages again once
// its cause has resolved.
func TestInhibitedByInRealAlertmanager(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "")
	if err != nil {
		t.Fatal(err)
	}
	am := testenv.NewAlertmanager(t, filepath.Join("..", "..", "..", "alertmanager", "platform.yml"))

	// alert returns an alert's labels as its rule sets them, plus the
	// labels its sample carries (absent()'s, or the series' by labels).
	alert := func(name string, series map[string]string) map[string]string {
		a := m.AlertByName(name)
		if a == nil {
			t.Fatalf("the platform spec has no alert %s", name)
		}
		l := map[string]string{"alertname": name}
		maps.Copy(l, a.Labels)
		if a.Absent != nil {
			maps.Copy(l, a.Absent.Labels)
		}
		maps.Copy(l, series)
		return l
	}
	post := func(alerts ...amAlert) {
		t.Helper()
		body, err := json.Marshal(alerts)
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
	}
	firing := func(labels ...map[string]string) {
		t.Helper()
		var as []amAlert
		for _, l := range labels {
			as = append(as, amAlert{Labels: l, StartsAt: time.Now().Add(-time.Minute), EndsAt: time.Now().Add(time.Hour)})
		}
		post(as...)
	}
	// state reads an alert's state ("active", "suppressed") and who
	// inhibits it; "" while Alertmanager does not list it yet.
	state := func(labels map[string]string) (string, []string) {
		t.Helper()
		resp, err := http.Get(am.URL + "/api/v2/alerts")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got []amAlert
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		for _, a := range got {
			if maps.Equal(a.Labels, labels) && a.Status != nil {
				return a.Status.State, a.Status.InhibitedBy
			}
		}
		return "", nil
	}
	// await polls: Alertmanager hands new alerts to its inhibitor
	// asynchronously. The deadline is generous for a loaded CI machine; a
	// wrong state fails only after it.
	await := func(want string, labels map[string]string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			got, by := state(labels)
			if got == want && (want != "suppressed" || len(by) > 0) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %v: state %q (inhibited by %v), want %q; log:\n%s", labels["alertname"], labels, got, by, want, am.Log())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	is := func(want string, labels map[string]string) {
		t.Helper()
		if got, by := state(labels); got != want {
			t.Errorf("%s %v: state %q (inhibited by %v), want %q", labels["alertname"], labels, got, by, want)
		}
	}

	collectorA := alert("RedlineCollectorFailing", map[string]string{"target": "pg-a", "collector": "postgres"})
	collectorB := alert("RedlineCollectorFailing", map[string]string{"target": "pg-b", "collector": "postgres"})
	probeMissing := alert("EventLoopProbeMissing", nil)
	requestsMissing := alert("ApiRequestMetricsMissing", nil)
	exporterDown := alert("RedlineExporterDown", map[string]string{"instance": "redline:9187"})

	// Without a cause every effect pages.
	firing(collectorA, collectorB, probeMissing, requestsMissing)
	for _, l := range []map[string]string{collectorA, collectorB, probeMissing, requestsMissing} {
		await("active", l)
	}

	// The causes arrive in one batch, PlatformTargetDown first: once the
	// later ones are seen to inhibit, the inhibitor has read it too, so the
	// alerts that must stay active are checked after it has had its say.
	firing(
		alert("PlatformTargetDown", map[string]string{"instance": "10.1.2.3:8080"}),
		alert("PostgresUnreachable", map[string]string{"target": "pg-a"}),
		exporterDown,
	)
	await("suppressed", collectorA)
	await("suppressed", probeMissing)
	is("active", collectorB)      // another target's collector still opens its ticket
	is("active", requestsMissing) // one dead pod explains no missing counter

	firing(alert("PlatformDown", nil))
	await("suppressed", requestsMissing)

	// The cause resolves, the effect still fires: it pages again.
	post(amAlert{Labels: exporterDown, StartsAt: time.Now().Add(-time.Minute), EndsAt: time.Now().Add(-time.Second)})
	await("active", probeMissing)
}
