package rulegen_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/spec"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenSpecs lists testdata/golden/<name>.spec.yml; the expected outputs
// live in testdata/golden/<name>/.
func goldenSpecs(t *testing.T) []string {
	t.Helper()
	specs, err := filepath.Glob("testdata/golden/*.spec.yml")
	if err != nil || len(specs) == 0 {
		t.Fatalf("no golden specs: %v", err)
	}
	return specs
}

// generatedShop writes specText as shop.yml in a new directory, generates
// its files there and returns the directory (rules/shop.rules.yml,
// rules/shop.test.yml, …), for tests that run promtool on them.
func generatedShop(t *testing.T, specText string) string {
	t.Helper()
	dir := t.TempDir()
	specFile := filepath.Join(dir, "shop.yml")
	if err := os.WriteFile(specFile, []byte(specText), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := rulegen.Write(dir, generateFile(t, specFile)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func generateFile(t *testing.T, path string) []render.File {
	t.Helper()
	s, err := spec.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files, err := rulegen.Generate(s, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestGolden(t *testing.T) {
	for _, path := range goldenSpecs(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".spec.yml")
		t.Run(name, func(t *testing.T) {
			files := generateFile(t, path)
			dir := filepath.Join("testdata", "golden", name)
			if *update {
				if err := rulegen.Write(dir, files); err != nil {
					t.Fatal(err)
				}
			}
			stale, err := rulegen.Check(dir, files)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stale {
				t.Errorf("%s differs from the golden file (run go test ./rulegen -update):\n%s", s.Path, s.Diff)
			}
		})
	}
}

// TestDeterministic generates twice and compares bytes: map iteration and
// float formatting must not leak into the output.
func TestDeterministic(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	a, err := rulegen.Generate(s, "x")
	if err != nil {
		t.Fatal(err)
	}
	for range 1 {
		s, _ := spec.Default()
		b, err := rulegen.Generate(s, "x")
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if !bytes.Equal(a[i].Data, b[i].Data) {
				t.Fatalf("%s differs between two runs", a[i].Path)
			}
		}
	}
}

// TestDefaultSpecCommitted fails when the files committed at the repository
// root are not what the built-in spec generates (the same as `rulegen
// check --out .`).
func TestDefaultSpecCommitted(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	files, err := rulegen.Generate(s, "built-in default")
	if err != nil {
		t.Fatal(err)
	}
	stale, err := rulegen.Check("..", files)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		t.Errorf("%s is stale; run make generate:\n%s", s.Path, s.Diff)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPromtoolAndAmtool runs the real promtool and amtool on what the
// golden specs generate: the rules load, every generated unit test passes
// (each alert fires just above its threshold, stays silent below it and
// without traffic), and the Alertmanager configuration is accepted.
func TestPromtoolAndAmtool(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	amtool := testenv.Binary(t, "amtool")
	for _, path := range goldenSpecs(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".spec.yml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			files := generateFile(t, path)
			if err := rulegen.Write(dir, files); err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				p := filepath.Join(dir, f.Path)
				switch {
				case strings.HasPrefix(f.Path, "mimir/"):
					// A ruler namespace file, not a Prometheus rule file:
					// mimir.Validate checks its groups.
				case strings.HasSuffix(f.Path, ".rules.yml"):
					run(t, promtool, "check", "rules", p)
				case strings.HasSuffix(f.Path, ".test.yml"):
					out := run(t, promtool, "test", "rules", p)
					if !strings.Contains(out, "SUCCESS") {
						t.Errorf("promtool test rules: %s", out)
					}
				case strings.HasPrefix(f.Path, "alertmanager/"):
					run(t, amtool, "check-config", p)
				}
			}
		})
	}
}

// TestPromtoolDefaultRules checks the platform's generated rules and route
// with the real tools. Its unit tests (a day of samples for the 24h burn
// window) run in `make check-generated`.
func TestPromtoolDefaultRules(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	amtool := testenv.Binary(t, "amtool")
	run(t, promtool, "check", "rules", filepath.Join("..", "rules", "platform.rules.yml"))
	run(t, amtool, "check-config", filepath.Join("..", "alertmanager", "platform.yml"))
}

// TestGeneratedTestsCatchBrokenRules proves the generated tests can fail: a
// rule file whose threshold is nudged makes promtool report the alert.
func TestGeneratedTestsCatchBrokenRules(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	dir := generatedShop(t, smallSpec)
	rules := filepath.Join(dir, "rules", "shop.rules.yml")
	data, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "service:queue_age:max > 30", "service:queue_age:max > 40", 1)
	if broken == string(data) {
		t.Fatal("test fixture: expression not found")
	}
	if err := os.WriteFile(rules, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "test", "rules", filepath.Join(dir, "rules", "shop.test.yml")).CombinedOutput()
	if err == nil {
		t.Fatalf("promtool accepted a rule whose threshold moved:\n%s", out)
	}
	if !strings.Contains(string(out), "ShopQueueStale") {
		t.Errorf("failure does not name the alert:\n%s", out)
	}
}

// TestGeneratedTestsCatchMissingGuard proves the guard test can fail: with
// the guard taken out of the recording rule, promtool reports that the
// alert fires for a process too young to be judged.
func TestGeneratedTestsCatchMissingGuard(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	dir := generatedShop(t, guardedSpec)
	tests := filepath.Join(dir, "rules", "shop.test.yml")
	if out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput(); err != nil {
		t.Fatalf("generated tests fail on the generated rules:\n%s", out)
	}
	rules := filepath.Join(dir, "rules", "shop.rules.yml")
	data, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	guard := ` and on(instance, job) (time() - process_start_time_seconds{job="shop"} > 600)`
	unguarded := strings.Replace(string(data), guard, "", 1)
	if unguarded == string(data) {
		t.Fatalf("test fixture: guard not found in:\n%s", data)
	}
	if err := os.WriteFile(rules, []byte(unguarded), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput()
	if err == nil {
		t.Fatalf("promtool accepted a rule without its guard:\n%s", out)
	}
	if !strings.Contains(string(out), "ShopMemoryLeak: silent while the guard does not hold") {
		t.Errorf("failure is not the guard test's:\n%s", out)
	}
}

const guardedSpec = `version: redline/v1
service: shop
signals:
  - name: memory_growth
    kind: gauge
    metric: process_resident_memory_bytes{job="shop"}
    function: deriv
    window: 10m
    per: hour
    threshold: 52428800
    guard:
      expr: time() - process_start_time_seconds{job="shop"} > 600
      on: [instance, job]
triggers:
  - name: ShopMemoryLeak
    signal: memory_growth
    for: 2m
    action: rollback
alertmanager:
  webhook_url: http://127.0.0.1:9095/hook
`

// smallSpec is the one-signal spec the CLI and library tests share.
var smallSpec = mustRead("testdata/small.spec.yml")

func mustRead(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestRealPrometheusAndAlertmanagerLoadOutputs loads the committed platform
// files into a real Prometheus and a real Alertmanager: every rule group is
// loaded and every rule evaluates without error.
func TestRealPrometheusAndAlertmanagerLoadOutputs(t *testing.T) {
	rules, err := filepath.Abs(filepath.Join("..", "rules", "platform.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	am := testenv.NewAlertmanager(t, filepath.Join("..", "alertmanager", "platform.yml"))
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{RuleFiles: []string{rules}})
	if am.URL == "" {
		t.Fatal("alertmanager did not start")
	}
	type rule struct {
		Name, Health, LastError string
	}
	var body struct {
		Data struct {
			Groups []struct {
				Name  string
				Rules []rule
			}
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(prom.URL + "/api/v1/rules")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		// The recordings, the SLOs' ratios and budgets, the alerts.
		evaluated := len(body.Data.Groups) == 3
		for _, g := range body.Data.Groups {
			for _, r := range g.Rules {
				if r.Health == "unknown" {
					evaluated = false
				}
			}
		}
		if evaluated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rules not evaluated after 30s: %+v", body.Data.Groups)
		}
		time.Sleep(500 * time.Millisecond)
	}
	n := 0
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				t.Errorf("group %s rule %s: health %s: %s", g.Name, r.Name, r.Health, r.LastError)
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d rules loaded", n)
	}
}

// The generated tests fix the rule groups' evaluation order: promtool
// otherwise evaluates them in a map's random order, and an alert reads this
// step's recordings in one run and the previous step's in the next.
func TestTestsFixGroupOrder(t *testing.T) {
	for _, path := range goldenSpecs(t) {
		var rules struct {
			Groups []struct {
				Name string `yaml:"name"`
			} `yaml:"groups"`
		}
		var tests struct {
			Order []string `yaml:"group_eval_order"`
		}
		for _, f := range generateFile(t, path) {
			switch {
			case strings.HasSuffix(f.Path, ".rules.yml"):
				if err := yaml.Unmarshal(f.Data, &rules); err != nil {
					t.Fatal(err)
				}
			case strings.HasSuffix(f.Path, ".test.yml"):
				if err := yaml.Unmarshal(f.Data, &tests); err != nil {
					t.Fatal(err)
				}
			}
		}
		var names []string
		for _, g := range rules.Groups {
			names = append(names, g.Name)
		}
		if len(names) < 2 || strings.Join(tests.Order, ",") != strings.Join(names, ",") {
			t.Errorf("%s: group_eval_order %v, want the rule file's groups in file order %v", path, tests.Order, names)
		}
	}
}
