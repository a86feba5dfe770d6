package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/internal/demo"
	"github.com/redline-sre/redline/internal/testenv"
)

// report is the part of `rulegen preflight --output json` the tests read.
type report struct {
	Decision string `json:"decision"`
	Checks   []struct {
		Check    string `json:"check"`
		Required bool   `json:"required"`
		Status   string `json:"status"`
		Value    string `json:"value"`
		Detail   string `json:"detail"`
	} `json:"checks"`
}

func (r *report) status(check string) (string, string) {
	for _, c := range r.Checks {
		if c.Check == check {
			return c.Status, c.Detail
		}
	}
	return "", ""
}

// blocking lists the required checks that are not GO.
func (r *report) blocking() []string {
	var out []string
	for _, c := range r.Checks {
		if c.Required && c.Status != "GO" {
			out = append(out, fmt.Sprintf("%s %s (%s: %s)", c.Status, c.Check, c.Value, c.Detail))
		}
	}
	return out
}

// preflightRun runs the built rulegen binary and returns its exit code,
// its report (when it printed one) and its stderr.
func preflightRun(t *testing.T, args ...string) (int, *report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, rulegenBin, append([]string{"preflight", "--output", "json"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("rulegen preflight: %v", err)
	}
	var rep *report
	if stdout.Len() > 0 {
		rep = &report{}
		if err := json.Unmarshal(stdout.Bytes(), rep); err != nil {
			t.Fatalf("preflight output is not JSON: %v\n%s", err, stdout.String())
		}
	}
	return code, rep, stderr.String()
}

// preflightUntil reruns the preflight until ok accepts its report, and
// returns the last one.
func preflightUntil(t *testing.T, within time.Duration, ok func(code int, r *report) bool, args ...string) (int, *report) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, rep, stderr := preflightRun(t, args...)
		if rep != nil && ok(code, rep) {
			return code, rep
		}
		if time.Now().After(deadline) {
			if rep != nil {
				t.Logf("last preflight (exit %d): blocking %s", code, strings.Join(rep.blocking(), "\n  "))
			}
			t.Fatalf("preflight not as expected within %s (exit %d): %s", within, code, stderr)
		}
		time.Sleep(2 * time.Second)
	}
}

// TestPreflight drives the whole stack — PostgreSQL, pgBouncer,
// redline_exporter, Prometheus with the rules generated from the platform
// spec — to GO, to NO-GO on a saturated pool and a sequence behind its
// column, and checks UNKNOWN on a signal without series and exit 3 for a
// stopped Prometheus.
func TestPreflight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole stack")
	}
	for _, bin := range []string{"initdb", "pgbouncer", "prometheus", "alertmanager"} {
		testenv.Binary(t, bin)
	}
	ctx := context.Background()
	dir := t.TempDir()
	s, err := demo.StartStack(ctx, demo.StackOptions{
		ExporterBin: exporterBin,
		Dir:         dir,
		// The CSP baseline compares with yesterday, which a stack started
		// now does not have: NewStack makes it a warning.
		Spec:            demo.SpecOverrides{For: 2 * time.Second, GroupWait: time.Second, GroupInterval: time.Second, NewStack: true},
		BehindColumnTTL: time.Second,
		Interval:        time.Second,
		Log:             logWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if t.Failed() && !stopped {
			t.Logf("exporter log:\n%s\nprometheus log:\n%s", s.Exporter.Log(), s.Prometheus.Log())
		}
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	if err := demo.CreateHealthyTable(ctx, s.TradingDSN, "accounts"); err != nil {
		t.Fatal(err)
	}
	// The rules Prometheus loaded come from spec.yml; the preflight reads
	// a copy whose preflight: section also makes eventloop_lag a warning.
	// Its guard leaves out the probes of an exporter whose own timers fire
	// late, and on this shared, loaded machine they do (timer-lag P95 of
	// 15-25ms measured, the guard's bound is 10ms): the signal is rightly
	// UNKNOWN there, which is not what this test is about.
	specFile := withPreflight(t, filepath.Join(dir, "spec.yml"), filepath.Join(dir, "preflight.yml"), `
name: eventloop_on_a_loaded_machine
signal: eventloop_lag
required: false
description: The test machine is shared and loaded; the exporter's timers fire late and its guard leaves out every probe.`)
	args := []string{"--spec", specFile, "--prometheus", s.Prometheus.URL, "--timeout", "30s"}

	t.Run("GO when healthy", func(t *testing.T) {
		code, rep := preflightUntil(t, 3*time.Minute, func(code int, r *report) bool { return code == 0 }, args...)
		if rep.Decision != "GO" {
			t.Errorf("exit %d with decision %s", code, rep.Decision)
		}
		if st, detail := rep.status("signal:csp_violations"); st != "UNKNOWN" {
			t.Errorf("signal:csp_violations is %q (%s), want UNKNOWN (a warning): the stack has no yesterday", st, detail)
		}
		for _, c := range []string{"rules:loaded", "target:redline", "target:platform", "signal:pgbouncer_saturation", "trigger:PgBouncerPoolSaturated", "trigger:SequenceBehindColumn"} {
			if st, detail := rep.status(c); st != "GO" {
				t.Errorf("%s is %q (%s), want GO", c, st, detail)
			}
		}
	})

	t.Run("UNKNOWN for a signal without series", func(t *testing.T) {
		variant := withSignal(t, specFile, filepath.Join(dir, "variant.yml"), `
name: order_fill_ratio
kind: gauge
description: Share of orders filled; the platform does not export it.
metric: orders_filled_ratio{job="platform"}
op: ">="
threshold: 50%`, `
name: OrderFillLow
signal: order_fill_ratio
for: 1m
action: rollback`)
		code, rep, stderr := preflightRun(t, "--spec", variant, "--prometheus", s.Prometheus.URL)
		if code != 1 || rep == nil {
			t.Fatalf("exit %d, want 1 (NO-GO); stderr %s", code, stderr)
		}
		st, detail := rep.status("signal:order_fill_ratio")
		if st != "UNKNOWN" || !strings.Contains(detail, `orders_filled_ratio{job="platform"}`) {
			t.Errorf("signal:order_fill_ratio is %s (%s), want UNKNOWN naming the selector", st, detail)
		}
		if st, detail := rep.status("trigger:OrderFillLow"); st != "UNKNOWN" {
			t.Errorf("trigger:OrderFillLow is %s (%s), want UNKNOWN: silent on no data is not GO", st, detail)
		}
	})

	t.Run("NO-GO names the saturated pool and the sequence behind its column", func(t *testing.T) {
		sat, err := demo.Saturate(ctx, s.AppDSN, 2*demo.TradingPoolSize+1, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer sat.Stop()
		if _, err := demo.PlantSequenceBehind(ctx, s.TradingDSN, "fills"); err != nil {
			t.Fatal(err)
		}
		evidence := filepath.Join(dir, "evidence")
		noGo := func(code int, r *report) bool {
			pool, _ := r.status("trigger:PgBouncerPoolSaturated")
			seq, _ := r.status("trigger:SequenceBehindColumn")
			return code == 1 && pool == "NO-GO" && seq == "NO-GO"
		}
		_, rep := preflightUntil(t, 90*time.Second, noGo, append(args, "--evidence", evidence)...)
		if _, detail := rep.status("trigger:PgBouncerPoolSaturated"); !strings.Contains(detail, `database="trading"`) {
			t.Errorf("PgBouncerPoolSaturated does not name the pool: %s", detail)
		}
		if _, detail := rep.status("trigger:SequenceBehindColumn"); !strings.Contains(detail, `table="fills"`) || !strings.Contains(detail, "990") {
			t.Errorf("SequenceBehindColumn does not name the sequence and how far behind it is: %s", detail)
		}
		pools := readFile(t, filepath.Join(evidence, "pgbouncer_pools.tsv"))
		if !strings.Contains(pools, "pgbouncer\ttrading\tapp\t2\t1\t") {
			t.Errorf("pgbouncer_pools.tsv has no saturated trading pool row:\n%s", pools)
		}
		if seqs := readFile(t, filepath.Join(evidence, "sequences.txt")); !strings.Contains(seqs, "fills") || !strings.Contains(seqs, "990") {
			t.Errorf("sequences.txt does not list fills 990 behind:\n%s", seqs)
		}
		checkManifest(t, evidence)
	})

	t.Run("exit 3 when Prometheus is stopped", func(t *testing.T) {
		if err := s.Prometheus.Stop(); err != nil {
			t.Fatal(err)
		}
		stopped = true
		code, rep, stderr := preflightRun(t, args...)
		if code != 3 || rep != nil {
			t.Errorf("exit %d (report %v), want 3 and no report", code, rep != nil)
		}
		if !strings.Contains(stderr, "unreachable") {
			t.Errorf("stderr does not say Prometheus is unreachable: %s", stderr)
		}
	})
}

// TestPreflightCredentials runs against a real Prometheus that requires
// basic auth: wrong credentials are exit 3 and never printed; the right
// ones, from a file, reach the checks.
func TestPreflightCredentials(t *testing.T) {
	testenv.Binary(t, "prometheus")
	const user, password = "preflight", "right-horse-battery"
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{BasicAuth: map[string]string{user: password}})
	spec := filepath.Join(t.TempDir(), "spec.yml")
	if err := os.WriteFile(spec, []byte(`version: redline/v1
service: shop
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{job="shop", code=~"5.."}
    total: http_requests_total{job="shop"}
    threshold: 1%
triggers:
  - name: ShopErrors
    signal: errors
    for: 5m
    action: rollback
alertmanager:
  webhook_url: http://127.0.0.1:9/hook
`), 0o644); err != nil {
		t.Fatal(err)
	}
	wrong := strings.Replace(prom.URL, "http://", "http://"+user+":wrong-staple@", 1)
	code, rep, stderr := preflightRun(t, "--spec", spec, "--prometheus", wrong)
	if code != 3 || rep != nil {
		t.Errorf("wrong password: exit %d, want 3 and no report", code)
	}
	if !strings.Contains(stderr, "credentials refused") || strings.Contains(stderr, "wrong-staple") {
		t.Errorf("stderr must say the credentials were refused, without them: %s", stderr)
	}
	code, _, stderr = preflightRun(t, "--spec", spec, "--prometheus", prom.URL)
	if code != 3 {
		t.Errorf("no credentials: exit %d, want 3 (%s)", code, stderr)
	}
	passFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passFile, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	code, rep, stderr = preflightRun(t, "--spec", spec, "--prometheus", prom.URL, "--basic-auth.username", user, "--basic-auth.password-file", passFile)
	if code != 1 || rep == nil {
		t.Fatalf("right credentials: exit %d, want 1 (NO-GO: no rules, no data); stderr %s", code, stderr)
	}
	if st, _ := rep.status("rules:loaded"); st != "NO-GO" {
		t.Errorf("rules:loaded is %s, want NO-GO (this Prometheus has no rules)", st)
	}
}

// withSignal writes a copy of a spec with one more signal and trigger.
func withSignal(t *testing.T, from, to, signal, trigger string) string {
	return appendItems(t, from, to, map[string]string{"signals": signal, "triggers": trigger})
}

// withPreflight writes a copy of a spec with one more preflight: entry.
func withPreflight(t *testing.T, from, to, entry string) string {
	return appendItems(t, from, to, map[string]string{"preflight": entry})
}

// appendItems writes a copy of a spec with an item appended to lists.
func appendItems(t *testing.T, from, to string, items map[string]string) string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(readFile(t, from)), &doc); err != nil {
		t.Fatal(err)
	}
	for key, text := range items {
		add := struct{ key, item string }{key, text}
		var item yaml.Node
		if err := yaml.Unmarshal([]byte(add.item), &item); err != nil {
			t.Fatal(err)
		}
		root := doc.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == add.key {
				root.Content[i+1].Content = append(root.Content[i+1].Content, item.Content[0])
			}
		}
	}
	data, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return to
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// checkManifest verifies SHA256SUMS as sha256sum -c would.
func checkManifest(t *testing.T, dir string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "SHA256SUMS"))), "\n")
	if len(lines) < 8 {
		t.Errorf("SHA256SUMS lists %d files", len(lines))
	}
	for _, line := range lines {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Errorf("bad manifest line %q", line)
			continue
		}
		if got := fmt.Sprintf("%x", sha256.Sum256([]byte(readFile(t, filepath.Join(dir, name))))); got != sum {
			t.Errorf("%s: sha256 %s, manifest says %s", name, got, sum)
		}
	}
}
