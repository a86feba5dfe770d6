package preflight

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/rulegen/spec"
)

// TestHTTPCheck requests pages of a real local server with and without
// the security headers.
func TestHTTPCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/with":
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
			w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
			w.Header().Set("Set-Cookie", "session=private-token")
		case "/wrong":
			w.Header().Set("Content-Security-Policy", "default-src 'self'")
			w.Header().Set("Cross-Origin-Embedder-Policy", "unsafe-none")
		case "/redirect":
			http.Redirect(w, r, "/with", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("page"))
	}))
	defer srv.Close()
	base := strings.Replace(srv.URL, "http://", "http://user:pw-in-url@", 1)
	headers := map[string]string{"Content-Security-Policy": "", "Cross-Origin-Embedder-Policy": "require-corp"}
	for _, tc := range []struct {
		path   string
		status Status
		detail []string
	}{
		{"/with", GO, nil},
		{"/without", NoGo, []string{"Content-Security-Policy missing", "Cross-Origin-Embedder-Policy missing"}},
		{"/wrong", NoGo, []string{`Cross-Origin-Embedder-Policy is "unsafe-none", does not match "require-corp"`}},
		{"/redirect", NoGo, []string{"status 302, want 200"}},
	} {
		p := &spec.PreflightCheck{Name: "headers", HTTP: &spec.HTTPCheck{URL: base + tc.path + "?token=q-secret", Status: 200, Headers: headers}}
		e := &env{timeout: 10 * time.Second}
		out := httpCheck(p).run(context.Background(), e)
		if out.Status != tc.status {
			t.Errorf("%s: %s (%s), want %s", tc.path, out.Status, out.Detail, tc.status)
		}
		for _, d := range tc.detail {
			if !strings.Contains(out.Detail, d) {
				t.Errorf("%s: detail %q lacks %q", tc.path, out.Detail, d)
			}
		}
		evidence := out.Detail
		for _, q := range e.queries {
			evidence += q.Request + string(q.Result) + q.Error
		}
		for _, secret := range []string{"pw-in-url", "q-secret", "private-token"} {
			if strings.Contains(evidence, secret) {
				t.Errorf("%s: %q in the output or evidence: %s", tc.path, secret, evidence)
			}
		}
	}

	t.Run("no answer is UNKNOWN", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		url := dead.URL
		dead.Close()
		p := &spec.PreflightCheck{Name: "headers", HTTP: &spec.HTTPCheck{URL: url, Status: 200}}
		if out := httpCheck(p).run(context.Background(), &env{timeout: 5 * time.Second}); out.Status != Unknown {
			t.Errorf("%s (%s), want UNKNOWN", out.Status, out.Detail)
		}
	})
}
