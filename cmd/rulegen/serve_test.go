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
	key, pub := writeKeyPair(t, dir)
	const subject = "ghcr.io/acme/shop@sha256:" + "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "--spec", specFile, "--prometheus", promURL, "--web.listen-address", addr,
			"--web.config.file", web, "--evidence", filepath.Join(dir, "evidence"), "--signing-key", key, "--subject", subject}, &stdout, &stderr)
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

	// The stage's evidence is signed: rulegen verify finds it authentic
	// and its verdict FAILED (exit 1, not "NOT VERIFIED"), re-deciding
	// the stage from checks.json; one flipped byte breaks it.
	stage := filepath.Join(dir, "evidence", "r1", "stage-0")
	verify := func(ev string) (int, string, string) {
		return runCLI(t, "verify", "--evidence", ev, "--key", pub, "--spec", specFile, "--subject", subject)
	}
	code, _, vstderr := verify(stage)
	if code != 1 || strings.Contains(vstderr, "NOT VERIFIED") {
		t.Errorf("verify the stage: exit %d, want 1 for an authentic NO_GO:\n%s", code, vstderr)
	}
	mustContain(t, "verify the stage", vstderr, "signed verdict is FAILED", "rules:loaded")
	for _, f := range []string{"checks.json", "rollout_stage_0.txt", "preflight/preflight.json"} {
		flipped := filepath.Join(dir, "flipped-"+filepath.Base(f))
		copyDir(t, stage, flipped)
		flipByte(t, filepath.Join(flipped, f))
		code, _, vstderr := verify(flipped)
		if code != 1 {
			t.Errorf("%s flipped: exit %d, want 1", f, code)
		}
		mustContain(t, f+" flipped", vstderr, "NOT VERIFIED", f+": sha256")
	}
	// A check's outcome changed and signed again: the stage decided
	// again from its checks no longer matches.
	forged := filepath.Join(dir, "forged")
	copyDir(t, stage, forged)
	b, err := os.ReadFile(filepath.Join(forged, "checks.json"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte(`"verdict": "NO_GO"`), []byte(`"verdict": "GO"`), 1)
	if err := os.WriteFile(filepath.Join(forged, "checks.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	reseal(t, forged, key, pub)
	code, _, vstderr = verify(forged)
	if code != 1 {
		t.Errorf("forged verdict, signed again: exit %d, want 1", code)
	}
	mustContain(t, "forged verdict", vstderr, "NOT VERIFIED", "checks.json: verdict GO, but the checks' outcomes give NO_GO")
}
