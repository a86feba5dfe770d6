package dashboard_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/render/dashboard"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana/variables"
	"github.com/redline-sre/redline/rulegen/spec"
)

// committedDashboards are the generated dashboards beside dashboards/.lint.
func committedDashboards(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("../../../dashboards/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no committed dashboards: %v", err)
	}
	return paths
}

// lintConfig is dashboards/.lint as dashboard-linter reads it (yaml.v3
// with lowercased field names).
type lintConfig struct {
	Exclusions map[string]*struct {
		Reason  string `yaml:"reason"`
		Entries []struct {
			Dashboard string `yaml:"dashboard"`
			Panel     string `yaml:"panel"`
			TargetIdx string `yaml:"targetidx"`
		} `yaml:"entries"`
	} `yaml:"exclusions"`
}

// TestLintExclusions holds without the linter: every exclusion in
// dashboards/.lint has a reason, and every target of a committed dashboard
// whose rate window is not $__rate_interval is listed by dashboard, panel
// and target, and nothing else is.
func TestLintExclusions(t *testing.T) {
	raw, err := os.ReadFile("../../../dashboards/.lint")
	if err != nil {
		t.Fatal(err)
	}
	var cfg lintConfig
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("dashboards/.lint: %v", err)
	}
	for rule, ex := range cfg.Exclusions {
		if ex == nil || ex.Reason == "" {
			t.Errorf("dashboards/.lint: exclusion of %s has no reason", rule)
		}
	}
	listed := map[string]bool{}
	if ex := cfg.Exclusions["target-rate-interval-rule"]; ex != nil {
		for _, e := range ex.Entries {
			listed[e.Dashboard+" / "+e.Panel+" / "+e.TargetIdx] = true
		}
	}
	found := map[string]bool{}
	for _, path := range committedDashboards(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Title  string
			Panels []struct {
				Title   string
				Targets []struct{ Expr string }
			}
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Panels {
			for i, tg := range p.Targets {
				if fixedRateWindow(t, tg.Expr) {
					found[d.Title+" / "+p.Title+" / "+strconv.Itoa(i)] = true
				}
			}
		}
	}
	for k := range found {
		if !listed[k] {
			t.Errorf("%s: rate window is not $__rate_interval and dashboards/.lint does not exclude it", k)
		}
	}
	for k := range listed {
		if !found[k] {
			t.Errorf("dashboards/.lint excludes %s, which no committed dashboard has (stale entry)", k)
		}
	}
}

// fixedRateWindow says whether a rate or irate in expr reads a window
// other than $__rate_interval (interpolated as 1m).
func fixedRateWindow(t *testing.T, expr string) bool {
	q, err := variables.Interpolate(expr, []string{"datasource", "track"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := spec.Parser.ParseExpr(q)
	if err != nil {
		t.Fatal(err)
	}
	fixed := false
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		call, ok := n.(*parser.Call)
		if !ok || (call.Func.Name != "rate" && call.Func.Name != "irate") {
			return nil
		}
		for _, a := range call.Args {
			if ms, ok := a.(*parser.MatrixSelector); ok {
				vs := ms.VectorSelector.(*parser.VectorSelector)
				if ms.Range.String() != "1m0s" || vs.OriginalOffset != 0 {
					fixed = true
				}
			}
		}
		return nil
	})
	return fixed
}

// TestDashboardLinter runs Grafana's dashboard-linter, when installed, on
// the committed dashboards with dashboards/.lint, as `make lint` does. It
// skips without the linter (docs/dashboard.md says how to build it).
func TestDashboardLinter(t *testing.T) {
	bin, err := exec.LookPath("dashboard-linter")
	if err != nil {
		t.Skip("dashboard-linter is not installed (see docs/dashboard.md)")
	}
	for _, path := range committedDashboards(t) {
		out, err := exec.Command(bin, "lint", "--strict", path).CombinedOutput()
		if err != nil {
			t.Errorf("dashboard-linter lint --strict %s: %v\n%s", path, err, out)
		}
	}
}

// TestGenerateWritesLintConfig: `rulegen generate` writes the .lint the
// generated dashboards need beside them, so that a user's dashboards pass
// the linter as the committed ones do: it lists exactly the targets with a
// fixed rate window, and dashboard-linter (when installed) passes on the
// generated directory.
func TestGenerateWritesLintConfig(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	files, err := rulegen.Generate(s, spec.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rulegen.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "dashboards", ".lint"))
	if err != nil {
		t.Fatalf("generate wrote no dashboards/.lint: %v", err)
	}
	var cfg dashboard.LintConfig
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	listed := 0
	if ex := cfg.Exclusions["target-rate-interval-rule"]; ex != nil {
		listed = len(ex.Entries)
	}
	dashboards, _ := filepath.Glob(filepath.Join(dir, "dashboards", "*.json"))
	fixed := 0
	for _, path := range dashboards {
		data, _ := os.ReadFile(path)
		var d struct {
			Panels []struct{ Targets []struct{ Expr string } }
		}
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				if fixedRateWindow(t, tg.Expr) {
					fixed++
				}
			}
		}
	}
	if fixed == 0 || listed != fixed {
		t.Errorf("the generated .lint excludes %d targets; the generated dashboards have %d with a fixed rate window", listed, fixed)
	}
	if bin, err := exec.LookPath("dashboard-linter"); err == nil {
		for _, path := range dashboards {
			if out, err := exec.Command(bin, "lint", "--strict", path).CombinedOutput(); err != nil {
				t.Errorf("dashboard-linter lint --strict %s: %v\n%s", path, err, out)
			}
		}
	}
}
