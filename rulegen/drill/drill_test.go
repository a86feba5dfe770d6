package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/amconfig"
	"github.com/redline-sre/redline/rulegen/spec"
)

// webhook is the rollback receiver's stand-in: it records every
// notification and lists them at /received.
type webhook struct {
	mu   sync.Mutex
	got  bytes.Buffer
	url  string
	seen chan struct{}
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{seen: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if r.Method == http.MethodGet {
			rw.Write(w.got.Bytes())
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.got.Write(body)
		w.got.WriteByte('\n')
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// platform is the platform's model with its rollback webhook pointed at
// url and a 1s group_wait (the test waits for the notification).
func platform(t *testing.T, hook string) *model.Model {
	t.Helper()
	doc := strings.Replace(string(spec.DefaultSpec), "alertmanager:\n  webhook_url: http://rollback-webhook:9095/rollback\n",
		"alertmanager:\n  webhook_url: "+hook+"/rollback\n  group_wait: 1s\n", 1)
	if doc == string(spec.DefaultSpec) {
		t.Fatal("the platform spec's alertmanager section changed; update the test")
	}
	s, err := spec.Load("platform.yml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "platform.yml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// withPager appends a route the operator's own configuration would have
// after the fragment: everything of the service pages a person.
func withPager(t *testing.T, m *model.Model, pagerURL string) string {
	t.Helper()
	f, err := amconfig.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(f.Data), "\nreceivers:\n", "\n    - receiver: pager\n      matchers: [service=\"platform\"]\nreceivers:\n  - name: pager\n    webhook_configs: [{url: "+pagerURL+"/pager}]\n", 1)
	if cfg == string(f.Data) {
		t.Fatal("no receivers: section in the generated configuration")
	}
	file := filepath.Join(t.TempDir(), "alertmanager.yml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestDrillOnRealAlertmanager runs the drill against a real Alertmanager
// loaded with the generated route (plus a pager route after it, as a
// merged configuration has): every rollback alert is grouped to the
// rollback receiver only, the webhook gets it, nobody is paged, and a
// real page about the same signal is not inhibited by the drill.
func TestDrillOnRealAlertmanager(t *testing.T) {
	hook, pager := newWebhook(t), newWebhook(t)
	m := platform(t, hook.url)
	am := testenv.NewAlertmanager(t, withPager(t, m, pager.url))
	u, _ := url.Parse(am.URL)
	u.User = url.UserPassword("drill", "planted-am-secret")

	// A page about a signal one of the rollback alerts is about.
	var page map[string]string
	for _, a := range m.Alerts {
		if a.Labels["action"] != "page" || a.Labels["slo"] != "" {
			continue
		}
		for _, rb := range m.Alerts {
			if rb.Labels["rollback"] == "true" && rb.Labels["signal"] == a.Labels["signal"] {
				page = maps.Clone(a.Labels)
				page["alertname"] = a.Name
			}
		}
	}
	if page == nil {
		t.Fatal("the platform spec has no page alert on a rollback signal")
	}
	body, _ := json.Marshal([]map[string]any{{"labels": page}})
	resp, err := http.Post(am.URL+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	r, err := Run(context.Background(), m, Options{Alertmanager: u.String(), WebhookCheck: hook.url, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	text := string(r.Text())
	if !r.Passed() || !strings.HasPrefix(text, "PASSED ") {
		t.Errorf("the drill failed:\n%s", text)
	}
	rollbacks := 0
	for _, a := range m.Alerts {
		if a.Labels["rollback"] == "true" {
			rollbacks++
			if !strings.Contains(text, `alertname="`+a.Name+`"`) {
				t.Errorf("%s not drilled:\n%s", a.Name, text)
			}
		}
	}
	if len(r.Alerts) != rollbacks || rollbacks < 2 {
		t.Errorf("%d alerts drilled, the spec has %d rollback alerts", len(r.Alerts), rollbacks)
	}
	for _, a := range r.Alerts {
		if a.Webhook != "received" || len(a.Receivers) != 1 || a.Receivers[0] != m.Alertmanager.Receiver {
			t.Errorf("%s: receivers %v, webhook %s", a.Labels["alertname"], a.Receivers, a.Webhook)
		}
	}
	if strings.Contains(text, "planted-am-secret") {
		t.Errorf("the Alertmanager password is in the drill's output:\n%s", text)
	}
	// The pager may have the page; never a drill alert.
	time.Sleep(1500 * time.Millisecond)
	pager.mu.Lock()
	paged := pager.got.String()
	pager.mu.Unlock()
	if strings.Contains(paged, r.ID) {
		t.Errorf("the drill paged a person:\n%s", paged)
	}
	// The page is active, not inhibited by the drill's rollback alert.
	q := url.Values{"filter": {`alertname="` + page["alertname"] + `"`}}
	resp, err = http.Get(am.URL + "/api/v2/alerts?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	var alerts []struct {
		Status struct {
			State       string   `json:"state"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	json.NewDecoder(resp.Body).Decode(&alerts)
	resp.Body.Close()
	if len(alerts) != 1 || alerts[0].Status.State != "active" {
		t.Errorf("page %s during the drill: %+v, want active and not inhibited", page["alertname"], alerts)
	}
}

// TestDrillFailsOffTheRollbackReceiver: a configuration without the
// generated route sends the drill to the default receiver, and the drill
// says so; a webhook that never hears of it fails the drill as well.
func TestDrillFailsOffTheRollbackReceiver(t *testing.T) {
	hook := newWebhook(t)
	m := platform(t, hook.url)
	file := filepath.Join(t.TempDir(), "am.yml")
	os.WriteFile(file, []byte("route: {receiver: default, group_wait: 1s}\nreceivers: [{name: default}]\n"), 0o644)
	am := testenv.NewAlertmanager(t, file)
	r, err := Run(context.Background(), m, Options{Alertmanager: am.URL, WebhookCheck: hook.url, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	text := string(r.Text())
	if r.Passed() || !strings.HasPrefix(text, "FAILED ") || !strings.Contains(text, "grouped to default; webhook not received; FAILED: not on the rollback receiver "+m.Alertmanager.Receiver) {
		t.Errorf("drill off the rollback receiver:\n%s", text)
	}
}

func TestDrillErrors(t *testing.T) {
	m := platform(t, "http://127.0.0.1:1")
	for _, tc := range []struct{ url, want string }{
		{"ftp://x", "expected an http:// or https:// URL"},
		{"http://u:planted-am-secret@127.0.0.1:1", "alertmanager http://127.0.0.1:1:"},
	} {
		_, err := Run(context.Background(), m, Options{Alertmanager: tc.url, Timeout: time.Second})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "planted-am-secret") {
			t.Errorf("%s: %v, want %q without the password", tc.url, err, tc.want)
		}
	}
}
