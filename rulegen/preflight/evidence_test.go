package preflight

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// evidenceLayout reduces an evidence directory to what does not change
// between runs: the files, the checks with their outcomes and queries,
// the tables' headers, the baseline's series (without values).
func evidenceLayout(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "== %s\n", rel)
		lines := strings.Split(string(data), "\n")
		switch {
		case strings.HasPrefix(rel, "checks/"):
			for i, l := range lines {
				for _, p := range []string{"check:", "status:", "required:", "healthy when:", "--- query"} {
					if strings.HasPrefix(l, p) {
						b.WriteString(l + "\n")
						if p == "--- query" && i+1 < len(lines) {
							b.WriteString(lines[i+1] + "\n")
						}
					}
				}
			}
		case rel == EvidenceReport:
			for _, l := range lines[2:] {
				if f := strings.Fields(l); len(f) >= 2 {
					if f[1] == "(warn)" {
						f = append([]string{f[0] + " " + f[1]}, f[2:]...)
					}
					b.WriteString(f[0] + " " + f[1] + "\n")
				}
			}
		case rel == EvidenceBaseline:
			for _, l := range lines {
				if strings.HasPrefix(l, "#") {
					b.WriteString(l + "\n")
				} else if i := strings.LastIndex(l, "} "); i > 0 {
					b.WriteString(l[:i+1] + "\n")
				}
			}
		case rel == EvidenceManifest:
			for _, l := range lines {
				if _, name, ok := strings.Cut(l, "  "); ok {
					b.WriteString(name + "\n")
				}
			}
		case strings.HasSuffix(rel, ".txt") || strings.HasSuffix(rel, ".tsv"):
			for _, l := range lines {
				if strings.HasPrefix(l, "#") || strings.HasPrefix(l, "target") || strings.HasPrefix(l, "job") {
					b.WriteString(regexp.MustCompile(`\d{4}-\d\d-\d\dT[\d:.]+Z`).ReplaceAllString(strings.Join(strings.Fields(l), " "), "TIME") + "\n")
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func checkEvidenceGolden(t *testing.T, dir string) {
	t.Helper()
	got := evidenceLayout(t, dir)
	golden := filepath.Join("testdata", "evidence.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("evidence layout differs from %s (run with -update and read the diff):\n%s", golden, got)
	}
	// The baseline is valid exposition text, stamped with the run's time.
	data, err := os.ReadFile(filepath.Join(dir, EvidenceBaseline))
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("baseline.prom: %v", err)
	}
	if len(families["redline_preflight_signal_value"].GetMetric()) == 0 {
		t.Error("baseline.prom has no signal values")
	}
}

// bearerProxy stands in for the authenticating proxy that puts a bearer
// token in front of Prometheus (Prometheus itself takes only basic auth):
// it passes requests with the token on to the real server.
func bearerProxy(t *testing.T, prometheusURL, token string) string {
	t.Helper()
	target, err := url.Parse(prometheusURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func bearerConfig(t *testing.T, token string) config.HTTPClientConfig {
	t.Helper()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.DefaultHTTPClientConfig
	cfg.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: file}
	return cfg
}

// tlsProxy stands in for a TLS-terminating proxy in front of Prometheus
// (a test cannot get a certificate Prometheus's own TLS would need a CA
// for any more easily) and returns its URL and the CA file that verifies it.
func tlsProxy(t *testing.T, prometheusURL string) (string, string) {
	t.Helper()
	target, err := url.Parse(prometheusURL)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, block, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL, ca
}

// slowProxy passes requests on to the real Prometheus, holding back for
// delay those that slow says are slow (a loaded server, a long query).
func slowProxy(t *testing.T, prometheusURL string, delay time.Duration, slow func(*http.Request) bool) string {
	t.Helper()
	target, err := url.Parse(prometheusURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slow(r) {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// slowQuery says a request is a PromQL query whose expression contains s.
// The body is put back for the proxy.
func slowQuery(r *http.Request, s string) bool {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	return strings.HasSuffix(r.URL.Path, "/api/v1/query") && strings.Contains(form.Get("query")+r.URL.Query().Get("query"), s)
}
