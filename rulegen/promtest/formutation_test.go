package promtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/rulefile"
	"github.com/redline-sre/redline/rulegen/spec"
)

// TestForMutationsFail moves the `for` of every trigger and canary alert
// one evaluation interval (1m) either way, for the platform spec and for
// a spec with canary: and slos:, and checks that the alert's generated
// tests then fail under the real promtool. 0.2.0's passed with `for: 5m`
// turned into 6m: the "not yet firing" check ran two minutes early on
// rate-based signals and nothing looked at the late side.
//
// To stay fast, each mutation runs only the alert's firing groups
// (unmerged) against the recording rules and the alerts those groups
// assert, all in one promtool run; the same groups pass on the unchanged
// rules first.
func TestForMutationsFail(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	def, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	basic, err := spec.LoadFile(filepath.Join("..", "testdata", "golden", "basic.spec.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if basic.Canary == nil || len(basic.SLOs) == 0 {
		t.Fatal("basic.spec.yml lost its canary: or slos: section")
	}
	for name, s := range map[string]*spec.Spec{"platform": def, "canary and slos": basic} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := model.Build(s, "")
			if err != nil {
				t.Fatal(err)
			}
			f, err := generate(m, "rules.yml", false)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			// file writes one rules file and one test file; the test file
			// is returned.
			file := func(base string, alerts []*model.Alert, groups []Group) string {
				t.Helper()
				trimmed := *m
				trimmed.Alerts = alerts
				trimmed.Recordings = neededRecordings(t, m, alerts, groups)
				rules, err := rulefile.Render(&trimmed)
				if err != nil {
					t.Fatal(err)
				}
				tf := File{RuleFiles: []string{base + ".rules.yml"}, EvaluationInterval: "1m", GroupEvalOrder: m.Groups(), Tests: groups}
				tests, err := render.YAML(m, tf)
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, base+".test.yml")
				if err := os.WriteFile(filepath.Join(dir, base+".rules.yml"), rules.Data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tests, 0o644); err != nil {
					t.Fatal(err)
				}
				return path
			}

			var all []Group
			var allAlerts []*model.Alert
			mutated := map[string]string{} // test file → alert name
			var files []string
			n := 0
			for _, a := range m.Alerts {
				if a.Burn != nil || a.Absent != nil || a.Budget != nil || a.NoData != nil {
					// SLO windows, freezes and missing-series and missing-SLI
					// alerts (checked at for ± 1m) have their
					// own tests of for (the freeze's ±1m in
					// TestGeneratedTestsCatchBudgetDefects).
					continue
				}
				groups, asserted := ownGroups(f, m, a)
				if len(groups) == 0 {
					t.Errorf("%s: no generated test group pins its for", a.Name)
					continue
				}
				all = append(all, groups...)
				for _, d := range []time.Duration{-time.Minute, time.Minute} {
					moved := time.Duration(a.For.Duration) + d
					if moved < 0 {
						continue
					}
					var alerts []*model.Alert
					for _, o := range asserted {
						if o == a {
							c := *a
							c.For = spec.Duration{Duration: commonmodel.Duration(moved), Text: commonmodel.Duration(moved).String()}
							o = &c
						}
						alerts = append(alerts, o)
					}
					n++
					p := file(fmt.Sprintf("m%03d", n), alerts, groups)
					mutated[p] = fmt.Sprintf("%s with for %s (spec: %s)", a.Name, commonmodel.Duration(moved), a.For)
					files = append(files, p)
				}
			}
			for _, a := range m.Alerts {
				for _, g := range all {
					if slices.ContainsFunc(g.AlertRuleTests, func(at AlertTest) bool { return at.Alertname == a.Name }) {
						allAlerts = append(allAlerts, a)
						break
					}
				}
			}
			unchanged := file("unchanged", allAlerts, all)
			results := runPromtool(t, promtool, append([]string{unchanged}, files...))
			if !results[unchanged].ok {
				t.Fatalf("the alerts' own groups fail on the unchanged rules:\n%s", results[unchanged].out)
			}
			for _, p := range files {
				r := results[p]
				if r.ok {
					t.Errorf("%s: the generated tests still pass", mutated[p])
				}
			}
			t.Logf("%d mutations of for, each caught", len(files))
		})
	}
}

// neededRecordings keeps the recording rules that the alerts and the
// groups' expression tests read, directly or through other recordings:
// promtool evaluates every rule at every step, and the baseline trigger's
// groups span a day.
func neededRecordings(t *testing.T, m *model.Model, alerts []*model.Alert, groups []Group) []model.Recording {
	t.Helper()
	byName := map[string]model.Recording{}
	for _, r := range m.Recordings {
		byName[r.Record] = r
	}
	need := map[string]bool{}
	var visit func(expr string)
	visit = func(expr string) {
		e, err := spec.Parser.ParseExpr(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok || need[vs.Name] {
				return nil
			}
			if r, ok := byName[vs.Name]; ok {
				need[vs.Name] = true
				visit(r.Expr)
			}
			return nil
		})
	}
	for _, a := range alerts {
		visit(a.Expr)
	}
	for _, g := range groups {
		for _, et := range g.ExprTests {
			visit(et.Expr)
		}
	}
	var out []model.Recording
	for _, r := range m.Recordings {
		if need[r.Record] {
			out = append(out, r)
		}
	}
	return out
}

// ownGroups returns the unmerged groups that pin an alert's `for` (its
// firing groups: a silent group stays silent whatever the `for`) and the
// alerts they assert on, in the model's order.
func ownGroups(f *File, m *model.Model, a *model.Alert) ([]Group, []*model.Alert) {
	var groups []Group
	names := map[string]bool{}
	pin := forPin(a, 0).Expr
	pin = pin[:strings.Index(pin, "[")]
	for _, g := range f.Tests {
		if !strings.HasPrefix(g.Name, a.Name+": ") || !slices.ContainsFunc(g.ExprTests, func(e ExprTest) bool { return strings.HasPrefix(e.Expr, pin) }) {
			continue
		}
		groups = append(groups, g)
		for _, at := range g.AlertRuleTests {
			names[at.Alertname] = true
		}
	}
	var asserted []*model.Alert
	for _, o := range m.Alerts {
		if names[o.Name] {
			asserted = append(asserted, o)
		}
	}
	return groups, asserted
}

type promtoolResult struct {
	ok  bool
	out string
}

// runPromtool runs one `promtool test rules` over every file and splits
// its report per file.
func runPromtool(t *testing.T, promtool string, files []string) map[string]promtoolResult {
	t.Helper()
	out, _ := exec.CommandContext(t.Context(), promtool, append([]string{"test", "rules"}, files...)...).CombinedOutput()
	results := map[string]promtoolResult{}
	for _, block := range strings.Split(string(out), "Unit Testing:  ")[1:] {
		path, rest, _ := strings.Cut(block, "\n")
		results[strings.TrimSpace(path)] = promtoolResult{ok: strings.HasPrefix(strings.TrimSpace(rest), "SUCCESS"), out: rest}
	}
	for _, p := range files {
		if _, ok := results[p]; !ok {
			t.Fatalf("promtool did not report %s:\n%s", p, out)
		}
	}
	return results
}
