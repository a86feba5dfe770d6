package rulegen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/internal/testenv"
)

// qualitySpec has one signal for each rule-quality guard: an SLO with a
// low-traffic guard, a counter whose first increment must fire, a baseline
// one day back, a per-instance gauge whose alert names the instance, and an
// alert on missing series.
const qualitySpec = `version: redline/v1
service: shop
signals:
  - name: http_errors
    kind: ratio
    errors: http_requests_total{job="shop", code=~"5.."}
    total: http_requests_total{job="shop"}
    threshold: 1%
    min_rate: 0.5
  - name: refund_mismatch
    kind: rate
    counter: refund_mismatch_total{job="shop"}
    threshold: 0
  - name: csp
    kind: baseline
    counter: csp_violations_total{job="shop"}
    window: 15m
    baseline_window: 30m
    baseline_offset: 2h
    tolerance: 10%
    min_rate: 0.5
  - name: memory_growth
    kind: gauge
    metric: process_resident_memory_bytes{job="shop"}
    function: deriv
    window: 10m
    per: hour
    unit: bytes
    by: [instance]
    threshold: 52428800
triggers:
  - {name: ShopRefundMismatch, signal: refund_mismatch, for: 1m, action: rollback}
  - {name: ShopCSP, signal: csp, for: 5m, action: rollback}
  - {name: ShopMemoryLeak, signal: memory_growth, for: 2m, action: rollback}
  - {name: ShopRequestsMissing, signal: http_errors, absent: true, for: 10m, action: page}
slos:
  - name: availability
    signal: http_errors
    objective: 99.9%
    windows:
      - {long: 1h, short: 5m, factor: 14.4}
alertmanager:
  webhook_url: http://127.0.0.1:9095/hook
`

// TestGeneratedTestsCatchRuleQualityDefects proves that each guard the
// generated promtool tests cover is needed: with the guard taken out of the
// generated rules, promtool fails the test named here. The unchanged rules
// pass first, so the failure is the mutation's doing.
func TestGeneratedTestsCatchRuleQualityDefects(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	dir := generatedShop(t, qualitySpec)
	rules := filepath.Join(dir, "rules", "shop.rules.yml")
	tests := filepath.Join(dir, "rules", "shop.test.yml")
	original, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput(); err != nil {
		t.Fatalf("generated tests fail on the generated rules:\n%s", out)
	}
	for _, c := range []struct {
		name, from, to, failing string
	}{
		{
			name:    "SLO without its low-traffic guard",
			from:    "\n          and\n          avg_over_time(service:http_errors_total:rate5m[1h]) >= 0.5",
			failing: "AvailabilityErrorBudgetBurn: silent below min_rate (0.25 requests/s) even at 100% errors",
		},
		{
			name:    "counter without the first-increment catch",
			from:    "\n          or\n          sum(refund_mismatch_total{job=\"shop\"} > 0 unless last_over_time(refund_mismatch_total{job=\"shop\"}[1h] offset 5m)) / 300 * 60",
			failing: "ShopRefundMismatch: fires when refund_mismatch first appears at 1 and stays there",
		},
		{
			name:    "first-increment catch that never looks back",
			from:    "unless last_over_time(refund_mismatch_total{job=\"shop\"}[1h] offset 5m)",
			to:      "unless refund_mismatch_total{job=\"shop\"} == -1",
			failing: "ShopRefundMismatch: silent when refund_mismatch holds a value above 0 for longer than 5m",
		},
		{
			name:    "first-increment catch that looks back one window only",
			from:    "unless last_over_time(refund_mismatch_total{job=\"shop\"}[1h] offset 5m)",
			to:      "unless refund_mismatch_total{job=\"shop\"} offset 5m",
			failing: "ShopRefundMismatch: silent when refund_mismatch returns at the same value after 15m unscraped",
		},
		{
			name:    "baseline right before the current window",
			from:    "[30m] offset 2h",
			to:      "[30m] offset 15m",
			failing: "ShopCSP: fires just above the threshold after 5m",
		},
		{
			name:    "baseline without min_rate",
			from:    " and service:csp:rate15m >= 0.5",
			failing: "ShopCSP: silent when traffic is below min_rate",
		},
		{
			name:    "alert that does not name the instance",
			from:    "memory_growth of instance {{ $labels.instance }} is",
			to:      "memory_growth is",
			failing: "ShopMemoryLeak: fires just above the threshold after 2m",
		},
		{
			name:    "absent() that ignores the selector's labels",
			from:    `absent(http_requests_total{job="shop"})`,
			to:      `absent(http_requests_total)`,
			failing: `ShopRequestsMissing: fires when http_requests_total{job="shop"} has no series for 10m, beside http_requests_total{job="x"}`,
		},
		{
			name:    "absent() without its for",
			from:    "absent(http_requests_total{job=\"shop\"})\n        for: 10m",
			to:      "absent(http_requests_total{job=\"shop\"})\n        for: 1m",
			failing: `ShopRequestsMissing: fires 10m after http_requests_total{job="shop"} disappears`,
		},
		{
			name:    "missing-series alert that fires on present series",
			from:    `absent(http_requests_total{job="shop"})`,
			to:      `absent(http_requests_total{job="shop"}) or vector(1)`,
			failing: `ShopRequestsMissing: silent while http_requests_total{job="shop"} is present`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			mutated := strings.Replace(string(original), c.from, c.to, 1)
			if mutated == string(original) {
				t.Fatalf("test fixture: %q not found in:\n%s", c.from, original)
			}
			if err := os.WriteFile(rules, []byte(mutated), 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(rules, original, 0o644)
			out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput()
			if err == nil {
				t.Fatalf("promtool accepted the rules with the %s:\n%s", c.name, out)
			}
			if !strings.Contains(string(out), c.failing) {
				t.Errorf("failure is not %q's:\n%s", c.failing, out)
			}
		})
	}
}
