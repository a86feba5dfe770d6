package gate_test

import (
	"context"
	"fmt"
	"html"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/preflight"
)

var (
	tags   = regexp.MustCompile(`(?s)<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
)

// chromium runs Debian's chromium headless on url with the flags that keep
// it off the network and out of the user's profile.
func chromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// chromiumPage loads the war-room page of a stage in headless Chromium
// and checks that the DOM's text shows the verdict and every check's name
// and value. With GATE_SCREENSHOT=FILE it also saves a screenshot.
func chromiumPage(t *testing.T, s *stack, release string, stage int) {
	t.Run("war-room page in chromium", func(t *testing.T) {
		bin, err := exec.LookPath("chromium")
		if err != nil {
			t.Skip("chromium is not installed (apt-get install chromium; make deps does)")
		}
		// A gate of its own that caches for an hour: the page and the
		// verdict it is compared with are the same evaluation.
		reg := prometheus.NewRegistry()
		g, err := gate.New(gate.Config{Model: s.m, Server: preflight.Server{URL: s.prom.URL}, CacheTTL: time.Hour, Registry: reg})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(g.Handler(reg))
		defer srv.Close()
		v := g.Verdict(context.Background(), gate.Ask{Release: release, Stage: stage})
		url := fmt.Sprintf("%s/?release=%s&stage=%d", srv.URL, release, stage)
		dom := string(chromium(t, bin, "--dump-dom", url))
		text := spaces.ReplaceAllString(html.UnescapeString(tags.ReplaceAllString(dom, " ")), " ")
		norm := func(s string) string { return spaces.ReplaceAllString(s, " ") }
		if !strings.Contains(text, string(v.Verdict)) {
			t.Errorf("the page does not show the verdict %s", v.Verdict)
		}
		for _, c := range v.Checks {
			if !strings.Contains(text, c.Name) {
				t.Errorf("the page does not show check %s", c.Name)
			}
			if c.Value != "" && !strings.Contains(text, norm(c.Value)) {
				t.Errorf("the page does not show %s's value %q", c.Name, c.Value)
			}
		}
		if !strings.Contains(text, "Error budget left") || !strings.Contains(dom, `href="/d/shop"`) {
			t.Errorf("the page has no error budget or no link to the dashboard")
		}
		if !strings.Contains(dom, `http-equiv="refresh"`) {
			t.Error("the page does not refresh itself")
		}
		if path := os.Getenv("GATE_SCREENSHOT"); path != "" {
			chromium(t, bin, "--hide-scrollbars", "--window-size=1280,1100", "--screenshot="+path, url)
		}
	})
}
