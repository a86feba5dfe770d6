package headers

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/redline-sre/redline/internal/testenv"
)

// page serves the platform's page with the given headers.
func page(headers map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		_, _ = w.Write([]byte("<html></html>"))
	}
}

var secure = map[string]string{
	"Content-Security-Policy":      "default-src 'self'; script-src 'nonce-abc'",
	"Cross-Origin-Embedder-Policy": "require-corp",
}

func startManager(t *testing.T, logger *slog.Logger, probes ...ProbeConfig) (*Manager, *prometheus.Registry) {
	t.Helper()
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	reg := prometheus.NewPedanticRegistry()
	m := NewManager(reg, logger)
	t.Cleanup(m.Stop)
	if err := m.Apply(probes); err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// gauges returns every series of name as "label=value,…" → value.
func gauges(t *testing.T, reg prometheus.Gatherer, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[labelString(m)] = m.GetGauge().GetValue()
		}
	}
	return out
}

func labelString(m *dto.Metric) string {
	var parts []string
	for _, lp := range m.GetLabel() {
		parts = append(parts, lp.GetName()+"="+lp.GetValue())
	}
	return strings.Join(parts, ",")
}

// waitProbed waits until the probe has finished a request: its duration is
// set (a request takes more than 0s) and success says how it went.
func waitProbed(t *testing.T, reg prometheus.Gatherer, probe string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for gauges(t, reg, "redline_http_header_probe_duration_seconds")["probe="+probe] == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("probe %s did not finish a request in 20s", probe)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHeaderProbe(t *testing.T) {
	t.Parallel()
	withHeaders := httptest.NewServer(page(secure))
	t.Cleanup(withHeaders.Close)
	without := httptest.NewServer(page(map[string]string{"Content-Security-Policy": "default-src *"}))
	t.Cleanup(without.Close)
	errorPage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(errorPage.Close)
	// The login page redirects to the page that carries the headers; the
	// redirect itself has none.
	redirect := httptest.NewServer(http.RedirectHandler(withHeaders.URL+"/app", http.StatusFound))
	t.Cleanup(redirect.Close)

	_, reg := startManager(t, nil,
		ProbeConfig{Name: "ok", URL: withHeaders.URL, Interval: time.Second},
		ProbeConfig{Name: "missing", URL: without.URL, Interval: time.Second},
		ProbeConfig{Name: "strict", URL: withHeaders.URL, Interval: time.Second, Require: map[string]string{
			"content-security-policy":      `.*script-src 'nonce-[a-z]+'.*`,
			"Cross-Origin-Embedder-Policy": "credentialless",
			"Strict-Transport-Security":    "",
		}},
		ProbeConfig{Name: "redirect", URL: redirect.URL, Interval: time.Second},
		ProbeConfig{Name: "followed", URL: redirect.URL, Interval: time.Second, FollowRedirects: true},
		ProbeConfig{Name: "error", URL: errorPage.URL, Interval: time.Second},
	)
	for _, p := range []string{"ok", "missing", "strict", "redirect", "followed", "error"} {
		waitProbed(t, reg, p)
	}

	wantMatch := map[string]float64{
		"header=Content-Security-Policy,probe=ok":            1,
		"header=Cross-Origin-Embedder-Policy,probe=ok":       1,
		"header=Content-Security-Policy,probe=missing":       1,
		"header=Cross-Origin-Embedder-Policy,probe=missing":  0,
		"header=Content-Security-Policy,probe=strict":        1,
		"header=Cross-Origin-Embedder-Policy,probe=strict":   0, // present, other value
		"header=Strict-Transport-Security,probe=strict":      0,
		"header=Content-Security-Policy,probe=redirect":      0, // the 302 is the answer checked
		"header=Cross-Origin-Embedder-Policy,probe=redirect": 0,
		"header=Content-Security-Policy,probe=followed":      1,
		"header=Cross-Origin-Embedder-Policy,probe=followed": 1,
	}
	got := gauges(t, reg, "redline_http_header_match")
	for k, v := range wantMatch {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("redline_http_header_match{%s} = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if len(got) != len(wantMatch) {
		t.Errorf("match series: %v, want only %v (none for the error page)", got, wantMatch)
	}
	success := gauges(t, reg, "redline_http_header_probe_success")
	for p, want := range map[string]float64{"ok": 1, "missing": 1, "strict": 1, "redirect": 1, "followed": 1, "error": 0} {
		if success["probe="+p] != want {
			t.Errorf("success{probe=%s} = %v, want %v", p, success["probe="+p], want)
		}
	}
}

// A hung server is a timeout: success 0, a duration at the timeout, no
// header series, and the probe neither piles up requests nor hangs Stop.
func TestHeaderProbeTimeout(t *testing.T) {
	t.Parallel()
	hung := make(chan struct{})
	arrived := make(chan struct{}, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-hung:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hung) })

	m, reg := startManager(t, nil, ProbeConfig{Name: "hung", URL: srv.URL, Interval: time.Second, Timeout: 300 * time.Millisecond})
	waitProbed(t, reg, "hung")
	if v := gauges(t, reg, "redline_http_header_probe_success")["probe=hung"]; v != 0 {
		t.Errorf("success = %v, want 0", v)
	}
	if v := gauges(t, reg, "redline_http_header_probe_duration_seconds")["probe=hung"]; v < 0.3 || v > 0.3+1e-9 {
		t.Errorf("duration = %v, want the timeout 0.3", v)
	}
	if got := gauges(t, reg, "redline_http_header_match"); len(got) != 0 {
		t.Errorf("a timed-out probe has header series: %v", got)
	}
	stopped := make(chan struct{})
	go func() { m.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("Stop hangs behind a hung request")
	}
	if n := len(arrived); n > 10 {
		t.Errorf("%d requests reached the hung server: the probe does not wait for the one in flight", n)
	}
}

// The URL's password and query token never reach the log.
func TestHeaderProbeLogsNoSecrets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	var logs testenv.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, reg := startManager(t, logger, ProbeConfig{
		Name: "app", URL: "http://probe:pw-s3cret@" + host + "/?token=tok-s3cret", Interval: time.Second,
	})
	waitProbed(t, reg, "app")
	m.Stop()
	out := logs.String()
	if strings.Contains(out, "s3cret") {
		t.Errorf("the log shows a secret:\n%s", out)
	}
	if !strings.Contains(out, "http://probe:xxxxx@"+host+"/?xxxxx") || !strings.Contains(out, "status 500") {
		t.Errorf("the log does not name the URL without its secrets, or the failure:\n%s", out)
	}
}

// A reload that drops a probe removes its series; one that changes the
// headers it requires drops the old header series.
func TestHeaderProbeReload(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(page(secure))
	t.Cleanup(srv.Close)
	a := ProbeConfig{Name: "a", URL: srv.URL, Interval: time.Second}
	b := ProbeConfig{Name: "b", URL: srv.URL, Interval: time.Second}
	m, reg := startManager(t, nil, a, b)
	waitProbed(t, reg, "a")
	waitProbed(t, reg, "b")

	a.Require = map[string]string{"Content-Security-Policy": ""}
	if err := m.Apply([]ProbeConfig{a}); err != nil {
		t.Fatal(err)
	}
	waitProbed(t, reg, "a")
	got := gauges(t, reg, "redline_http_header_match")
	if len(got) != 1 || got["header=Content-Security-Policy,probe=a"] != 1 {
		t.Errorf("after reload: %v", got)
	}
	if _, ok := gauges(t, reg, "redline_http_header_probe_success")["probe=b"]; ok {
		t.Error("the removed probe still has a success series")
	}
	// An invalid reload changes nothing.
	if err := m.Apply([]ProbeConfig{{Name: "a", URL: "ftp://x"}}); err == nil {
		t.Error("Apply accepted an ftp URL")
	}
	if _, ok := gauges(t, reg, "redline_http_header_probe_success")["probe=a"]; !ok {
		t.Error("a failed reload stopped the running probe")
	}
}

func TestProbeConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  ProbeConfig
		want string
	}{
		{ProbeConfig{URL: "http://x"}, `header probe: name is empty`},
		{ProbeConfig{Name: "p", URL: "http://u:pw-s3cret@x:99999/"}, `header probe "p": url port 99999 is not between 1 and 65535`},
		{ProbeConfig{Name: "p", URL: "u:pw-s3cret@x"}, `header probe "p": url must start with http:// or https://`},
		{ProbeConfig{Name: "p", URL: "http://x", Interval: 10 * time.Millisecond}, `header probe "p": interval must be at least 1s`},
		{ProbeConfig{Name: "p", URL: "http://x", Require: map[string]string{"Bad Header": ""}}, `header probe "p": require: invalid header name "Bad Header"`},
		{ProbeConfig{Name: "p", URL: "http://x", Require: map[string]string{"csp": "("}}, `header probe "p": require "csp": not a valid regular expression`},
		{ProbeConfig{Name: "p", URL: "http://x", Require: map[string]string{"X-A": "", "x-a": ""}}, `header probe "p": require: headers "X-A" and "x-a" are the same header`},
		{ProbeConfig{Name: "p", URL: "https://x/?token=t"}, ``},
	} {
		err := tc.cfg.WithDefaults().Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%+v:\n got %q\nwant %q", tc.cfg, got, tc.want)
		}
		if strings.Contains(got, "s3cret") {
			t.Errorf("error shows the URL's secret: %s", got)
		}
	}
	d := ProbeConfig{Name: "p", URL: "http://x"}.WithDefaults()
	if d.Interval != 30*time.Second || d.Timeout != 5*time.Second || len(d.Require) != 2 || d.FollowRedirects {
		t.Errorf("defaults: %+v", d)
	}
}
