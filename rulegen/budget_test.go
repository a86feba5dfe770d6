package rulegen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/internal/testenv"
)

// shortPeriodSpec has a 6h period, short enough for the generated tests to
// let a spend leave it (model's TestBudgetRulesDoNotDependOnPeriod shows a
// 28-day period has the same rules), and a burn window as long as the
// period, which shares the period's recorded ratio.
const shortPeriodSpec = `version: redline/v1
service: shop
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{job="shop", code=~"5.."}
    total: http_requests_total{job="shop"}
    threshold: 1%
    min_rate: 0.5
slos:
  - name: availability
    signal: errors
    objective: 99%
    period: 6h
    freeze_for: 2m
    windows:
      - {long: 1h, short: 5m, factor: 14.4, for: 3m}
      - {long: 6h, short: 30m, factor: 3, for: 10m}
alertmanager:
  webhook_url: http://127.0.0.1:9095/hook
`

// TestGeneratedTestsCatchBudgetDefects runs the generated tests of a
// short-period SLO with the real promtool, then breaks the budget and
// short-window rules one at a time: each break must fail the test that
// names it.
func TestGeneratedTestsCatchBudgetDefects(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	dir := generatedShop(t, shortPeriodSpec)
	tests := filepath.Join(dir, "rules", "shop.test.yml")
	if out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput(); err != nil {
		t.Fatalf("generated tests fail on the generated rules:\n%s", out)
	}
	rulesFile := filepath.Join(dir, "rules", "shop.rules.yml")
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, from, to, fails string
		// all replaces every occurrence (an expression the budget's
		// rules repeat), not the first.
		all bool
	}{
		{"the 5m short window lags one window (sum_over_time of the 5m rates)",
			"record: service:availability:error_ratio_rate5m\n        expr: service:errors_errors:rate5m / service:errors_total:rate5m",
			"record: service:availability:error_ratio_rate5m\n        expr: sum_over_time(service:errors_errors:rate5m[5m]) / sum_over_time(service:errors_total:rate5m[5m])",
			"service:availability:error_ratio_rate5m", false},
		{"the 30m short window reads 35m",
			"rate5m[25m]) / sum_over_time(service:errors_total:rate5m[25m])",
			"rate5m[30m]) / sum_over_time(service:errors_total:rate5m[30m])",
			"service:availability:error_ratio_rate30m", false},
		{"freeze threshold moved", "error_budget_remaining < 0.1", "error_budget_remaining < 0.08", "AvailabilityErrorBudgetFreeze: fires once", false},
		{"freeze for one minute shorter", "for: 2m", "for: 1m", "AvailabilityErrorBudgetFreeze: fires once", false},
		{"freeze for one minute longer", "for: 2m", "for: 3m", "AvailabilityErrorBudgetFreeze: fires once", false},
		{"remaining budget not inverted", "expr: 1 - (sum_over_time(service:errors_errors", "expr: (sum_over_time(service:errors_errors", "error_budget_remaining", false},
		{"a short history extrapolated over the period (no coverage)", "clamp_max((time() - min_over_time(service:errors_total:rate5m_timestamp[6h])) / 21300, 1)", "1", "AvailabilityErrorBudgetFreeze: fires once", true},
		{"no errors read as no data", ` or 0 * sum(rate(http_requests_total{job="shop"}[5m]))`, "", `round(service:errors_errors:rate5m * 1) / 1", time: 10m`, true},
		{"freeze threshold lowered to 1%", "error_budget_remaining < 0.1", "error_budget_remaining < 0.01", `ALERTS{alertname=\"AvailabilityErrorBudgetFreeze\", alertstate=\"firing\"})", time: 8h2m`, false},
		{"period ratio over a fixed day", "rate5m[5h55m]) / sum_over_time(service:errors_total:rate5m[5h55m])", "rate5m[1d]) / sum_over_time(service:errors_total:rate5m[1d])", `error_budget_remaining * 1e9) / 1e9", time: `, true},
		{"burn window for one minute longer", "for: 3m", "for: 4m", "fire each window once its for has passed", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := 1
			if c.all {
				n = -1
			}
			broken := strings.Replace(string(data), c.from, c.to, n)
			if broken == string(data) {
				t.Fatalf("test fixture: %q not found in:\n%s", c.from, data)
			}
			sub := t.TempDir()
			if err := os.MkdirAll(filepath.Join(sub, "rules"), 0o755); err != nil {
				t.Fatal(err)
			}
			testData, err := os.ReadFile(tests)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, "rules", "shop.rules.yml"), []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sub, "rules", "shop.test.yml"), testData, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "test", "rules", filepath.Join(sub, "rules", "shop.test.yml")).CombinedOutput()
			if err == nil {
				t.Fatalf("promtool accepted rules with %s", c.name)
			}
			if !strings.Contains(string(out), c.fails) {
				t.Errorf("the failure does not name %q:\n%s", c.fails, out)
			}
		})
	}
}
