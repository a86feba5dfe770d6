package demo

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The payload is what Alertmanager 0.25 posts (the e2e test receives real
// ones); here it checks what the demo prints for each status.
func TestWebhookPrintsFiringAndResolved(t *testing.T) {
	var out strings.Builder
	wh := NewWebhook(&out)
	srv := httptest.NewServer(wh)
	defer srv.Close()
	body := `{"version":"4","status":"resolved","receiver":"rollback","alerts":[
	 {"status":"firing","labels":{"alertname":"PgBouncerPoolSaturated","rollback":"true","service":"platform"},"annotations":{"summary":"pool app/app is 100% saturated"}},
	 {"status":"resolved","labels":{"alertname":"PgBouncerPoolSaturated","rollback":"true","service":"platform"},"annotations":{"summary":"pool app/app is 100% saturated"}}]}`
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("printed %d lines:\n%s", len(lines), out.String())
	}
	for i, want := range []string{
		`ROLLBACK WEBHOOK FIRING   PgBouncerPoolSaturated rollback="true" service="platform" — pool app/app is 100% saturated`,
		`ROLLBACK WEBHOOK RESOLVED PgBouncerPoolSaturated rollback="true" service="platform" — last firing: pool app/app is 100% saturated`,
	} {
		if !strings.HasSuffix(lines[i], want) {
			t.Errorf("line %d:\n%s\nwant it to end with\n%s", i, lines[i], want)
		}
	}
	if d := wh.Deliveries(); len(d) != 2 || d[1].Status != "resolved" {
		t.Errorf("deliveries recorded: %+v", d)
	}
}
