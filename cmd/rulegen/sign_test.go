package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/judge"
	"github.com/redline-sre/redline/rulegen/judge/prom"
)

// writeKeyPair writes an Ed25519 key pair (PKCS#8 and PKIX PEM) into dir.
func writeKeyPair(t *testing.T, dir string) (key, pub string) {
	t.Helper()
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(sk)
	pubDER, _ := x509.MarshalPKIXPublicKey(pk)
	key, pub = filepath.Join(dir, "signing.key"), filepath.Join(dir, "signing.pub")
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return key, pub
}

// flipByte changes one byte of file.
func flipByte(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies a flat-or-nested evidence directory.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// scaleSamples multiplies one metric's canary samples in samples.json.
func scaleSamples(t *testing.T, dir, metric string, by float64) {
	t.Helper()
	file := filepath.Join(dir, prom.SamplesFile)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var samples []prom.Sampled
	if err := json.Unmarshal(b, &samples); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, s := range samples {
		if s.Metric == metric && s.Track == "canary" && s.Kind == "samples" {
			for j := range s.Values {
				samples[i].Values[j] *= judge.Value(by)
				n++
			}
		}
	}
	if n == 0 {
		t.Fatalf("samples.json has no canary samples of %s", metric)
	}
	b, _ = json.MarshalIndent(samples, "", "  ")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// reseal signs dir again with the verdict its attestation holds: what a
// key holder who changed a value after the judge ran could do.
func reseal(t *testing.T, dir, key, pub string) {
	t.Helper()
	ctx := context.Background()
	line, err := os.ReadFile(filepath.Join(dir, attest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	ver, err := attest.LoadVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	v, err := attest.Open(ctx, line, ver)
	if err != nil {
		t.Fatal(err)
	}
	var config []attest.Resource
	for _, r := range v.Configuration {
		if r.Role != attest.RoleManifest {
			config = append(config, r)
		}
	}
	v.Configuration = config
	signer, err := attest.LoadSigner(key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := attest.Seal(ctx, dir, v, signer); err != nil {
		t.Fatal(err)
	}
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s: want %q in\n%s", what, sub, s)
		}
	}
}

// TestWatchJudgesEachRound: preflight --watch runs the gate's judge in
// each round — its checks in the round's report, judge.json and
// samples.json beside it, all signed — and rulegen verify re-judges the
// round's samples (a Prometheus with no data: the judge is UNKNOWN, the
// round NO-GO, authentic).
func TestWatchJudgesEachRound(t *testing.T) {
	testenv.Binary(t, "prometheus")
	p := testenv.NewPrometheus(t, testenv.PrometheusOptions{})
	dir := t.TempDir()
	specFile := writeSpec(t, dir, judgeSpecText)
	key, pub := writeKeyPair(t, dir)
	const subject = "ghcr.io/acme/api@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ev := filepath.Join(dir, "evidence")
	code, stdout, stderr := runCLI(t, "preflight", "--spec", specFile, "--prometheus", p.URL, "--watch", "3s", "--interval", "1s",
		"--evidence", ev, "--output", "json", "--signing-key", key, "--subject", subject)
	if code != 1 {
		t.Fatalf("preflight --watch: exit %d, want 1 (NO-GO)\n%s\n%s", code, stdout, stderr)
	}
	mustContain(t, "the round's report", stdout, `"check": "judge"`, `"check": "judge:api_latency"`, `"check": "judge:http_errors"`)
	round := filepath.Join(ev, "round-001")
	for _, f := range []string{prom.ReportFile, prom.SamplesFile, attest.FileName} {
		if _, err := os.Stat(filepath.Join(round, f)); err != nil {
			t.Errorf("round-001: %v", err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(round, "preflight.json"))
	mustContain(t, "round-001/preflight.json", string(b), `"check": "judge:http_errors"`)
	code, _, stderr = runCLI(t, "verify", "--evidence", round, "--key", pub, "--spec", specFile, "--subject", subject)
	if code != 1 || strings.Contains(stderr, "NOT VERIFIED") {
		t.Errorf("verify round-001: exit %d, want 1 for an authentic NO-GO\n%s", code, stderr)
	}
	mustContain(t, "verify round-001", stderr, "signed verdict is FAILED", "judge")
	tampered := filepath.Join(dir, "tampered")
	copyDir(t, round, tampered)
	b, _ = os.ReadFile(filepath.Join(tampered, prom.ReportFile))
	b = []byte(strings.Replace(string(b), `"verdict": "NoData"`, `"verdict": "Pass"`, 1))
	os.WriteFile(filepath.Join(tampered, prom.ReportFile), b, 0o644)
	reseal(t, tampered, key, pub)
	code, _, stderr = runCLI(t, "verify", "--evidence", tampered, "--key", pub, "--spec", specFile, "--subject", subject)
	if code != 1 {
		t.Errorf("verify a forged judge.json: exit %d", code)
	}
	mustContain(t, "verify a forged judge.json", stderr, "NOT VERIFIED", "judge.json: verdict Pass, the samples give NoData")
}
