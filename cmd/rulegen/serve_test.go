package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/redline-sre/redline/internal/testenv"
)

// TestServe runs `rulegen serve` in-process behind exporter-toolkit's basic
// auth against a real Prometheus: requests without the password are 401,
// /-/ready and /-/healthy are 200, a verdict comes with its JSON body and
// 412 when it is not GO, Prometheus's credentials never show, and
// cancelling (SIGTERM/SIGINT in main) shuts down with exit 0.
func TestServe(t *testing.T) {
	testenv.Binary(t, "prometheus")
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{BasicAuth: map[string]string{"prom": "prom-secret"}})
	dir := t.TempDir()
	specFile := writeSpec(t, dir, smallSpec)
	hash, err := bcrypt.GenerateFromPassword([]byte("gate-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(dir, "web.yml")
	if err := os.WriteFile(web, []byte(fmt.Sprintf("basic_auth_users:\n  argo: %q\n", hash)), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	promURL := strings.Replace(prom.URL, "://", "://prom:prom-secret@", 1)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--spec", specFile, "--prometheus", promURL, "--web.listen-address", addr,
			"--web.config.file", web, "--evidence", filepath.Join(dir, "evidence")}, &stdout, &stderr)
	}()
	base := "http://" + addr
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if auth {
			req.SetBasicAuth("argo", "gate-pw")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := get("/-/healthy", true); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("rulegen serve did not come up: %s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := get("/api/v1/verdict?stage=0", false); code != http.StatusUnauthorized {
		t.Errorf("without the password: %d, want 401", code)
	}
	if code, body := get("/-/ready", true); code != http.StatusOK {
		t.Errorf("/-/ready: %d %s, want 200 (Prometheus answers with the URL's credentials)", code, body)
	}
	if code, body := get("/api/v1/verdict", true); code != http.StatusBadRequest || !strings.Contains(body, "stage is missing") {
		t.Errorf("no stage: %d %s, want 400 naming the stage", code, body)
	}
	// The Prometheus has neither the spec's rules nor its data: NO_GO on
	// rules:loaded (412, with the body), the signals NO_DATA.
	code, body := get("/api/v1/verdict?stage=0&release=r1", true)
	var v struct {
		Verdict string `json:"verdict"`
		Failed  string `json:"failed"`
		NoData  string `json:"no_data"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || code != http.StatusPreconditionFailed || v.Verdict != "NO_GO" || v.Failed != "rules:loaded" || !strings.Contains(v.NoData, "signal:queue_age") {
		t.Errorf("verdict without rules or data: %d %s (%v), want 412 NO_GO on rules:loaded, signal:queue_age NO_DATA", code, body, err)
	}
	if code, body := get("/metrics", true); code != http.StatusOK || !strings.Contains(body, `redline_gate_evaluations_total{verdict="NO_GO"} 1`) || !strings.Contains(body, "redline_gate_build_info") {
		t.Errorf("/metrics: %d, no evaluation counted or no build info", code)
	}
	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Errorf("exit %d after shutdown: %s", c, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("rulegen serve did not stop")
	}
	out := stdout.String() + stderr.String()
	filepath.WalkDir(filepath.Join(dir, "evidence"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			out += string(b)
		}
		return nil
	})
	if strings.Contains(out, "prom-secret") {
		t.Error("Prometheus's password is in the output or the evidence")
	}
}
