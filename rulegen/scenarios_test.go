package rulegen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/internal/testenv"
)

// The hand-written scenario suite and the committed rules it runs against.
var (
	scenarioFile     = filepath.Join("..", "rules", "scenarios", "platform.scenarios.test.yml")
	platformRuleFile = filepath.Join("..", "rules", "platform.rules.yml")
)

// TestScenarios runs the scenario suite with the real promtool against the
// committed platform rules: the shapes a canary really produces (a pool
// opening, a warm-up, counter resets, scrape gaps, a few failures at night)
// must not roll back, and real leaks, saturation and a planted sequence
// must. make check-generated runs the same file.
func TestScenarios(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	if out, err := exec.Command(promtool, "test", "rules", scenarioFile).CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules %s:\n%s", scenarioFile, out)
	}
}

// TestScenariosCatchFalsePositives proves the scenarios can fail: with a
// rule put back the way it produced a false positive (or lost a guard), the
// named scenario fails under promtool. Each case runs only its own
// scenario, against a copy of the committed rules, so the suite's whole
// runtime is not paid per case.
func TestScenariosCatchFalsePositives(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	rules, err := os.ReadFile(platformRuleFile)
	if err != nil {
		t.Fatal(err)
	}
	scenarios := readScenarios(t)
	for _, c := range []struct {
		name     string
		from, to []string // replaced in order, each exactly once
		scenario string   // the scenario that must fail
	}{
		{
			name: "ConnectionLeak of 0.1.0 (deriv over 30m, for 10m)",
			from: []string{
				`deriv(pg_connections_used_ratio{job="redline"}[15m])`,
				"expr: target:connection_growth:deriv15m * 3600 > 0.2\n        for: 20m",
			},
			to: []string{
				`deriv(pg_connections_used_ratio{job="redline"}[30m])`,
				"expr: target:connection_growth:deriv15m * 3600 > 0.2\n        for: 10m",
			},
			scenario: "a new pod opening its pool (connections 30% -> 40% in one step) does not fire ConnectionLeak",
		},
		{
			name: "MemoryLeak of 0.1.0 (deriv over 30m, for 15m)",
			from: []string{
				`deriv(process_resident_memory_bytes{job="platform"}[20m])`,
				"expr: instance:memory_growth:deriv20m * 3600 > 52428800\n        for: 25m",
			},
			to: []string{
				`deriv(process_resident_memory_bytes{job="platform"}[30m])`,
				"expr: instance:memory_growth:deriv20m * 3600 > 52428800\n        for: 15m",
			},
			scenario: "a pod loading a cache once (+100 MiB in one step, two hours after it started) does not fire MemoryLeak",
		},
		{
			name:     "MemoryLeak without its warm-up guard",
			from:     []string{` and on(instance, job) (time() - process_start_time_seconds{job="platform"} > 1800)`},
			to:       []string{""},
			scenario: "a pod warming up (150 MiB in its first 30 minutes, then flat) does not fire MemoryLeak",
		},
		{
			name:     "PgBouncerPoolSaturated without waiting clients",
			from:     []string{"(target_database_user:pgbouncer_saturation:max > 0.9)\n          and on(target, database, user)\n          (target_database_user:pgbouncer_waiting:max > 0)"},
			to:       []string{"target_database_user:pgbouncer_saturation:max > 0.9"},
			scenario: "a well-sized pool at 95% at peak hour with no client waiting is no rollback; a short wait while a pod connects is none either",
		},
		{
			name: "ReconnectStorm of 0.1.0 (5m rate, for 2m)",
			from: []string{
				`sum(rate(websocket_reconnects_total{job="platform"}[2m]))`,
				"expr: service:websocket_reconnects:rate2m * 60 > 30\n        for: 4m",
			},
			to: []string{
				`sum(rate(websocket_reconnects_total{job="platform"}[5m]))`,
				"expr: service:websocket_reconnects:rate2m * 60 > 30\n        for: 2m",
			},
			scenario: "a canary replacing one pod (its 300 WebSocket clients reconnect within two minutes) does not fire ReconnectStorm",
		},
		{
			name:     "RedlineExporterDown paging after 2m instead of 5m",
			from:     []string{"expr: instance:exporter_scraped:min < 1\n        for: 5m"},
			to:       []string{"expr: instance:exporter_scraped:min < 1\n        for: 2m"},
			scenario: "redline_exporter restarting (3 minutes unscraped, its counters reset) rolls nothing back and pages no one",
		},
		{
			name:     "Http5xxRateHigh without its low-traffic guard",
			from:     []string{"service:http_errors:ratio_rate5m > 0.01 and service:http_errors_total:rate5m >= 0.5"},
			to:       []string{"service:http_errors:ratio_rate5m > 0.01"},
			scenario: "2 failures out of 4 requests at night fire neither Http5xxRateHigh nor the availability SLO page",
		},
		{
			name:     "availability SLO page without its low-traffic guard",
			from:     []string{"service:api_availability:error_ratio_rate5m > 0.0144\n          and\n          avg_over_time(service:http_errors_total:rate5m[1h]) >= 0.5"},
			to:       []string{"service:api_availability:error_ratio_rate5m > 0.0144"},
			scenario: "2 failures out of 4 requests at night fire neither Http5xxRateHigh nor the availability SLO page",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			mutated := string(rules)
			for i, from := range c.from {
				if strings.Count(mutated, from) != 1 {
					t.Fatalf("test fixture: %q is not in the rules exactly once", from)
				}
				mutated = strings.Replace(mutated, from, c.to[i], 1)
			}
			dir := t.TempDir()
			ruleFile := filepath.Join(dir, "platform.rules.yml")
			file := filepath.Join(dir, "scenarios", "one.test.yml")
			writeScenario(t, file, scenarios, c.scenario)

			// The unchanged rules pass the same scenario, so the failure is
			// the mutation's doing.
			if err := os.WriteFile(ruleFile, rules, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput(); err != nil {
				t.Fatalf("the scenario fails on the committed rules:\n%s", out)
			}
			if err := os.WriteFile(ruleFile, []byte(mutated), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput()
			if err == nil {
				t.Fatalf("promtool accepted the %s:\n%s", c.name, out)
			}
			if !strings.Contains(string(out), "name: "+c.scenario+",") {
				t.Fatalf("promtool failed, but not on %q:\n%s", c.scenario, out)
			}
		})
	}
}

// readScenarios decodes the scenario file as YAML nodes, so that one
// scenario can be written out again exactly as it is in the file.
func readScenarios(t *testing.T) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(scenarioFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", scenarioFile, err)
	}
	return &doc
}

// writeScenario writes the scenario file with only the test named name.
func writeScenario(t *testing.T, file string, doc *yaml.Node, name string) {
	t.Helper()
	root := doc.Content[0]
	var top []*yaml.Node
	found := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, val := root.Content[i], root.Content[i+1]
		if key.Value == "tests" {
			var kept []*yaml.Node
			for _, test := range val.Content {
				if scenarioName(test) == name {
					kept = append(kept, test)
				}
			}
			found = len(kept) == 1
			val = &yaml.Node{Kind: yaml.SequenceNode, Content: kept}
		}
		top = append(top, key, val)
	}
	if !found {
		t.Fatalf("test fixture: %s has no scenario named %q", scenarioFile, name)
	}
	b, err := yaml.Marshal(&yaml.Node{Kind: yaml.MappingNode, Content: top})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func scenarioName(test *yaml.Node) string {
	for i := 0; i+1 < len(test.Content); i += 2 {
		if test.Content[i].Value == "name" {
			return test.Content[i+1].Value
		}
	}
	return ""
}
