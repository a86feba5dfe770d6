package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/evidence"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/spec"
)

// Planted secrets: none may appear in any evidence file or output.
const (
	plantedPromPassword   = "planted-prom-password-51c7"
	plantedCosignPassword = "planted-cosign-password-0a9d"
	plantedAMPassword     = "planted-am-password-7e21"
)

// releaseSpec is a GO release with a warning: healthy signals, two
// rollback triggers (so the drill has two alerts), a required PromQL
// check with a numeric threshold and an optional one with no data.
const releaseSpec = `version: redline/v1
service: shop
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{job="shop", code=~"5.."}
    total: http_requests_total{job="shop"}
    threshold: 1%
    min_rate: 1
  - name: queue_age
    kind: gauge
    metric: queue_age_seconds{job="shop"}
    threshold: 30s
triggers:
  - name: ShopErrors
    signal: errors
    for: 5m
    action: rollback
  - name: ShopQueueStale
    signal: queue_age
    for: 2m
    action: rollback
alertmanager:
  webhook_url: WEBHOOK
  group_wait: 1s
preflight:
  - name: queue_bounded
    expr: max(queue_age_seconds)
    threshold: 10
  - name: clock_offset
    expr: max(abs(clock_offset_seconds))
    threshold: 50ms
    required: false
`

// release is one signed evidence directory from the real pipeline: the
// drill on a real Alertmanager, then preflight on a real Prometheus
// (behind basic auth) signing with a cosign-encrypted key.
type release struct {
	dir, specFile, pub, key, subject string
	prom, passFile                   string
	outputs                          []string // every stdout and stderr
	keyPEM                           []byte
}

func (r *release) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	code, stdout, stderr := runCLI(t, args...)
	r.outputs = append(r.outputs, stdout, stderr)
	return code, stdout, stderr
}

func startRelease(t *testing.T) *release {
	t.Helper()
	testenv.Binary(t, "prometheus")
	testenv.Binary(t, "alertmanager")
	work := t.TempDir()
	r := &release{dir: filepath.Join(work, "evidence")}

	var mu sync.Mutex
	var hooked bytes.Buffer
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if req.Method == http.MethodGet {
			w.Write(hooked.Bytes())
			return
		}
		io.Copy(&hooked, req.Body)
	}))
	t.Cleanup(hook.Close)
	r.specFile = filepath.Join(work, "shop.yml")
	if err := os.WriteFile(r.specFile, []byte(strings.Replace(releaseSpec, "WEBHOOK", hook.URL+"/rollback", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := spec.LoadFile(r.specFile)
	if err != nil {
		t.Fatal(err)
	}
	files, err := rulegen.Generate(s, "shop.yml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "out")
	if err := rulegen.Write(out, files); err != nil {
		t.Fatal(err)
	}

	// The key pair as cosign generate-key-pair writes it.
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	enc, err := encrypted.EncryptWithCustomKDFParameters(der, []byte(plantedCosignPassword), encrypted.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	r.key, r.pub = filepath.Join(work, "cosign.key"), filepath.Join(work, "cosign.pub")
	r.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: enc})
	os.WriteFile(r.key, r.keyPEM, 0o600)
	os.WriteFile(r.pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
	t.Setenv(attest.PasswordEnv, plantedCosignPassword)
	r.subject = "ghcr.io/acme/shop@sha256:" + strings.Repeat("5e", 32)

	// The drill first: its file is part of what preflight signs.
	am := testenv.NewAlertmanager(t, filepath.Join(out, "alertmanager", "shop.yml"))
	// Alertmanager takes no credentials; the URL's are planted all the same.
	amURL, _ := url.Parse(am.URL)
	amURL.User = url.UserPassword("drill", plantedAMPassword)
	code, stdout, stderr := r.run(t, "drill", "--spec", r.specFile, "--alertmanager", amURL.String(), "--webhook-check", hook.URL, "--evidence", r.dir, "--timeout", "30s")
	if code != 0 || !strings.HasPrefix(stdout, "PASSED ") {
		t.Fatalf("drill: exit %d\n%s%s", code, stdout, stderr)
	}

	// The application and Prometheus, behind basic auth.
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"code"})
	queue := prometheus.NewGauge(prometheus.GaugeOpts{Name: "queue_age_seconds", Help: "Queue age."})
	reg.MustRegister(requests, queue)
	requests.WithLabelValues("500")
	queue.Set(4)
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		requests.WithLabelValues("200").Add(500)
		metrics.ServeHTTP(w, req)
	})}
	go app.Serve(l)
	t.Cleanup(func() { app.Close() })
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{
		Scrape:    []testenv.ScrapeTarget{{Job: "shop", Targets: []string{l.Addr().String()}}},
		RuleFiles: []string{filepath.Join(out, "rules", "shop.rules.yml")},
		BasicAuth: map[string]string{"release": plantedPromPassword},
	})
	passFile := filepath.Join(work, "prom-password")
	os.WriteFile(passFile, []byte(plantedPromPassword+"\n"), 0o600)
	r.prom, r.passFile = prom.URL, passFile

	drillFile, err := os.ReadFile(filepath.Join(r.dir, evidence.RollbackFile))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for attempt := 1; ; attempt++ {
		// Each attempt in a fresh directory, so that the signed set is
		// exactly one run's.
		dir := filepath.Join(work, fmt.Sprintf("attempt-%d", attempt))
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, evidence.RollbackFile), drillFile, 0o644)
		code, stdout, stderr := r.run(t, "preflight", "--spec", r.specFile, "--prometheus", prom.URL, "--evidence", dir,
			"--basic-auth.username", "release", "--basic-auth.password-file", passFile,
			"--signing-key", r.key, "--subject", r.subject)
		if code == exitGo {
			r.dir = dir
			break
		}
		if code != exitNoGo || time.Now().After(deadline) {
			t.Fatalf("preflight: exit %d\n%s%s", code, stdout, stderr)
		}
		time.Sleep(time.Second)
	}
	return r
}

func (r *release) verify(t *testing.T, extra ...string) (int, string, string) {
	t.Helper()
	return r.run(t, append([]string{"verify", "--evidence", r.dir, "--key", r.pub, "--spec", r.specFile, "--subject", r.subject}, extra...)...)
}

func evidenceFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	return files
}

// TestReleaseEvidence is the release's evidence set end to end: drill,
// signed preflight, verify, and everything verify must refuse.
func TestReleaseEvidence(t *testing.T) {
	r := startRelease(t)
	ctx := context.Background()

	code, stdout, stderr := r.verify(t)
	if code != 0 || !strings.Contains(stdout, "verified "+r.dir+": WARNED for "+r.subject) {
		t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
	}
	oneliner, _ := os.ReadFile(filepath.Join(r.dir, evidence.OnelinerFile))
	if want := "release ghcr.io/acme/shop@sha256:5e5e5e5e5e5e verdict GO(WARNED) stages 0/0 budget_left none rollbacks 0 drill PASSED\n"; string(oneliner) != want {
		t.Errorf("%s: %q, want %q", evidence.OnelinerFile, oneliner, want)
	}
	count, _ := os.ReadFile(filepath.Join(r.dir, evidence.CountFile))
	if !strings.Contains(string(count), " 0 missing\n") || !strings.Contains(string(count), "present  "+evidence.RollbackFile+"\n") {
		t.Errorf("%s:\n%s", evidence.CountFile, count)
	}

	// With --watch, each round is a stage verdict signed on its own.
	stages := filepath.Join(t.TempDir(), "stages")
	if code, stdout, stderr := r.run(t, "preflight", "--spec", r.specFile, "--prometheus", r.prom, "--evidence", stages,
		"--basic-auth.username", "release", "--basic-auth.password-file", r.passFile,
		"--watch", "1500ms", "--interval", "1s", "--signing-key", r.key, "--subject", r.subject); code != 0 {
		t.Fatalf("preflight --watch: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, round := range []string{"round-001", "round-002"} {
		dir := filepath.Join(stages, round)
		if code, stdout, stderr := r.run(t, "verify", "--evidence", dir, "--key", r.pub, "--spec", r.specFile, "--subject", r.subject); code != 0 {
			t.Errorf("verify %s: exit %d\n%s%s", round, code, stdout, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, evidence.CountFile)); err == nil {
			t.Errorf("%s has the release set's %s", round, evidence.CountFile)
		}
		for _, name := range evidenceFiles(t, dir) {
			data, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
			r.outputs = append(r.outputs, round+"/"+name+"\n"+string(data))
		}
	}

	// One flipped byte anywhere, in any file, fails verify and names it.
	files := evidenceFiles(t, r.dir)
	if len(files) < 10 {
		t.Fatalf("only %d evidence files: %v", len(files), files)
	}
	for _, name := range files {
		path := filepath.Join(r.dir, filepath.FromSlash(name))
		orig, _ := os.ReadFile(path)
		for _, at := range []int{0, len(orig) / 2, len(orig) - 1} {
			flipped := bytes.Clone(orig)
			flipped[at] ^= 0x01
			os.WriteFile(path, flipped, 0o644)
			code, _, stderr := r.verify(t)
			if code != exitCheckFailed || !strings.Contains(stderr, name) {
				t.Errorf("%s with byte %d flipped: exit %d, want 1 naming the file:\n%s", name, at, code, stderr)
			}
		}
		os.WriteFile(path, orig, 0o644)
	}
	// A file added after signing, or one removed, fails too.
	os.WriteFile(filepath.Join(r.dir, "checks", "extra.txt"), []byte("x"), 0o644)
	if code, _, stderr := r.verify(t); code != 1 || !strings.Contains(stderr, "checks/extra.txt: not in SHA256SUMS, so not signed") {
		t.Errorf("added file: exit %d\n%s", code, stderr)
	}
	os.Remove(filepath.Join(r.dir, "checks", "extra.txt"))
	if code, _, stderr := r.verify(t); code != 0 {
		t.Fatalf("restored: exit %d\n%s", code, stderr)
	}

	// Another artifact, another key, another spec.
	other := "ghcr.io/acme/shop@sha256:" + strings.Repeat("66", 32)
	if code, _, stderr := r.run(t, "verify", "--evidence", r.dir, "--key", r.pub, "--spec", r.specFile, "--subject", other); code != 1 ||
		!strings.Contains(stderr, "subject ghcr.io/acme/shop: the attestation is for "+r.subject+", not sha256:"+strings.Repeat("66", 32)) {
		t.Errorf("other subject: exit %d\n%s", code, stderr)
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherDER, _ := x509.MarshalPKIXPublicKey(&otherKey.PublicKey)
	otherPub := filepath.Join(t.TempDir(), "other.pub")
	os.WriteFile(otherPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: otherDER}), 0o644)
	if code, _, stderr := r.run(t, "verify", "--evidence", r.dir, "--key", otherPub, "--spec", r.specFile); code != 1 ||
		!strings.Contains(stderr, "attestation.intoto.jsonl: the signature does not verify with the given key") {
		t.Errorf("other key: exit %d\n%s", code, stderr)
	}
	stricter := filepath.Join(t.TempDir(), "shop.yml")
	specText, _ := os.ReadFile(r.specFile)
	os.WriteFile(stricter, bytes.Replace(specText, []byte("    threshold: 10\n"), []byte("    threshold: 3\n"), 1), 0o644)
	if code, _, stderr := r.run(t, "verify", "--evidence", r.dir, "--key", r.pub, "--spec", stricter); code != 1 ||
		!strings.Contains(stderr, `check preflight:queue_bounded: threshold "<= 10", the spec says "<= 3"`) ||
		!strings.Contains(stderr, "rule file rules/shop.rules.yml rendered from "+stricter+": sha256") ||
		!strings.Contains(stderr, "spec "+stricter+": sha256") {
		t.Errorf("stricter spec: exit %d\n%s", code, stderr)
	}

	// A value that contradicts its status, signed anyway (a buggy or
	// lying signer): verify judges again and names the check.
	signer, err := attest.LoadSigner(r.key, []byte(plantedCosignPassword))
	if err != nil {
		t.Fatal(err)
	}
	jsonFile := filepath.Join(r.dir, preflight.EvidenceJSON)
	orig, _ := os.ReadFile(jsonFile)
	rep, err := preflight.ReadJSON(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		if res.Check == "preflight:queue_bounded" {
			res.Value = "50"
		}
	}
	var js bytes.Buffer
	preflight.WriteJSON(&js, rep)
	os.WriteFile(jsonFile, js.Bytes(), 0o644)
	line, _ := os.ReadFile(filepath.Join(r.dir, attest.FileName))
	key, _ := attest.LoadVerifier(r.pub)
	v, err := attest.Open(ctx, line, key)
	if err != nil {
		t.Fatal(err)
	}
	v.Configuration = v.Configuration[:2] // Seal adds the manifest again
	if err := attest.Seal(ctx, r.dir, v, signer); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := r.verify(t); code != 1 || !strings.Contains(stderr, "preflight.json: check preflight:queue_bounded: value 50 is not <= 10, yet the check is GO") {
		t.Errorf("contradicting value: exit %d\n%s", code, stderr)
	}

	// evidence check: complete here; a missing drill file is named.
	if code, stdout, stderr := r.run(t, "evidence", "check", r.dir, "--spec", r.specFile); code != 0 || !strings.Contains(stdout, "0 missing") {
		t.Errorf("evidence check: exit %d\n%s%s", code, stdout, stderr)
	}
	os.Remove(filepath.Join(r.dir, evidence.RollbackFile))
	if code, stdout, stderr := r.run(t, "evidence", "check", r.dir, "--spec", r.specFile); code != 1 ||
		!strings.Contains(stdout, "missing  "+evidence.RollbackFile) || !strings.Contains(stderr, "1 files missing: "+evidence.RollbackFile) {
		t.Errorf("evidence check without the drill: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := r.verify(t); code != 1 || !strings.Contains(stderr, evidence.RollbackFile+": missing (the evidence plan expects it)") {
		t.Errorf("verify without the drill: exit %d\n%s", code, stderr)
	}

	// No secret anywhere: the evidence files, and every output.
	keyBody := strings.Split(string(r.keyPEM), "\n")[1]
	for _, name := range evidenceFiles(t, r.dir) {
		data, _ := os.ReadFile(filepath.Join(r.dir, filepath.FromSlash(name)))
		r.outputs = append(r.outputs, name+"\n"+string(data))
	}
	for _, out := range r.outputs {
		for _, secret := range []string{plantedPromPassword, plantedCosignPassword, plantedAMPassword, keyBody} {
			if strings.Contains(out, secret) {
				t.Errorf("a planted secret %.12q… is in:\n%.400s", secret, out)
			}
		}
	}
}

// TestSigningFlags: the flag errors come before anything runs (exit 2)
// and never show the key.
func TestSigningFlags(t *testing.T) {
	dir := t.TempDir()
	good := writeSpec(t, dir, smallSpec)
	key := filepath.Join(dir, "cosign.key")
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: []byte(`{"kdf":{}}`)}), 0o600)
	sub := "api@sha256:" + strings.Repeat("a", 64)
	t.Setenv(attest.PasswordEnv, "")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--subject", sub}, "--subject needs --signing-key"},
		{[]string{"--signing-key", key, "--subject", sub}, "--signing-key signs the evidence: give --evidence DIR"},
		{[]string{"--signing-key", key, "--evidence", dir}, "--signing-key needs --subject"},
		{[]string{"--signing-key", key, "--evidence", dir, "--subject", "api@sha256:xyz"}, "64 lower-case hex digits"},
		{[]string{"--signing-key", key, "--evidence", dir, "--subject", sub}, "set COSIGN_PASSWORD"},
	} {
		args := append([]string{"preflight", "--spec", good, "--prometheus", "http://127.0.0.1:1"}, tc.args...)
		code, _, stderr := runCLI(t, args...)
		if code != exitInvalid || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, %q; want 2 with %q", tc.args, code, stderr, tc.msg)
		}
	}
}

// TestEvidenceCheckUnsigned: in a directory preflight did not sign, the
// check writes the count and the one-liner, and names what is missing.
func TestEvidenceCheckUnsigned(t *testing.T) {
	work := t.TempDir()
	specFile := writeSpec(t, work, smallSpec)
	dir := filepath.Join(work, "ev")
	os.MkdirAll(filepath.Join(dir, "checks"), 0o755)
	s, _ := spec.LoadFile(specFile)
	m, err := model.Build(s, specFile)
	if err != nil {
		t.Fatal(err)
	}
	var rep preflight.Report
	rep.Service, rep.Decision = "shop", preflight.GO
	var js bytes.Buffer
	preflight.WriteJSON(&js, &rep)
	for _, f := range preflight.EvidenceFiles(m) {
		os.WriteFile(filepath.Join(dir, filepath.FromSlash(f)), nil, 0o644)
	}
	os.WriteFile(filepath.Join(dir, preflight.EvidenceJSON), js.Bytes(), 0o644)
	code, stdout, stderr := runCLI(t, "evidence", "check", dir, "--spec", specFile)
	if code != 1 || !strings.Contains(stderr, "2 files missing: attestation.intoto.jsonl, rollback_dryrun.txt") ||
		!strings.Contains(stdout, "present  checks/trigger_ShopQueueStale.txt") ||
		!strings.Contains(stdout, "release shop verdict GO(PASSED) stages 0/0 budget_left none rollbacks 0 drill not run") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	count, _ := os.ReadFile(filepath.Join(dir, evidence.CountFile))
	if !strings.HasPrefix(string(count), "# evidence plan: ") || !strings.Contains(string(count), "missing  rollback_dryrun.txt") {
		t.Errorf("%s:\n%s", evidence.CountFile, count)
	}
	if _, err := os.Stat(filepath.Join(dir, evidence.OnelinerFile)); err != nil {
		t.Error(err)
	}
}
