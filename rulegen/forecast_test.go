package rulegen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/internal/testenv"
)

// forecastSpec has a forecast of each shape: rising with deriv, behind a
// guard; falling (healthy above its threshold) with predict_linear.
const forecastSpec = `version: redline/v1
service: shop
signals:
  - name: disk_used
    kind: gauge
    metric: disk_used_ratio{job="db"}
    unit: ratio
    by: [instance]
    threshold: 90%
    guard:
      expr: disk_monitored{job="db"} == 1
      on: [instance]
  - name: free_slots
    kind: gauge
    metric: free_slots{job="db"}
    function: min
    op: ">="
    by: [instance]
    threshold: 10
triggers:
  - name: DiskFullForecast
    signal: disk_used
    forecast: {limit: 100%, window: 12h, within: 2d}
    for: 30m
    action: ticket
  - name: SlotsExhaustedForecast
    signal: free_slots
    forecast: {limit: 0, window: 6h, within: 1d, method: predict_linear}
    for: 1h
    action: page
alertmanager:
  webhook_url: http://localhost/hook
`

// TestForecastTests runs the generated forecast tests under the real
// promtool, then breaks each part of the rule and checks a test fails: a
// longer horizon fires on the ramp that crosses too late, and without the
// slope's direction a ramp moving away from the limit fires.
func TestForecastTests(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	dir := generatedShop(t, forecastSpec)
	rules := filepath.Join(dir, "rules", "shop.rules.yml")
	tests := filepath.Join(dir, "rules", "shop.test.yml")
	data, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"round((1 - instance:disk_used:max) / deriv(instance:disk_used:max[12h])) < 172800\n          and deriv(instance:disk_used:max[12h]) > 0\n          and instance:disk_used:max < 1",
		"round((0 - predict_linear(instance:free_slots:min[6h], 0)) / deriv(instance:free_slots:min[6h])) < 86400\n          and deriv(instance:free_slots:min[6h]) < 0\n          and instance:free_slots:min > 0",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("rules lack\n%s\nin\n%s", want, data)
		}
	}
	if out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput(); err != nil {
		t.Fatalf("generated forecast tests fail:\n%s", out)
	}
	body, err := os.ReadFile(tests)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"DiskFullForecast: fires on a steady ramp 1d 23h 0m 0s before it reaches the limit",
		"SlotsExhaustedForecast: fires on a steady ramp 22h 30m 0s before it reaches the limit",
	} {
		if !strings.Contains(string(body), name) {
			t.Errorf("no test %q", name)
		}
	}

	for _, m := range []struct{ name, from, to, fails string }{
		{"horizon doubled", "< 172800", "< 345600", "DiskFullForecast: silent on a steady ramp that reaches the limit"},
		{"direction dropped", "\n          and deriv(instance:free_slots:min[6h]) < 0", "", "SlotsExhaustedForecast: silent on a steady ramp away from the limit"},
	} {
		t.Run(m.name, func(t *testing.T) {
			broken := strings.Replace(string(data), m.from, m.to, 1)
			if broken == string(data) {
				t.Fatalf("fixture: %q not in the rules", m.from)
			}
			if err := os.WriteFile(rules, []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(rules, data, 0o644)
			out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput()
			if err == nil {
				t.Fatalf("promtool accepted the broken forecast rule")
			}
			if !strings.Contains(string(out), m.fails) {
				t.Errorf("the failure is not %q:\n%s", m.fails, out)
			}
		})
	}
}
