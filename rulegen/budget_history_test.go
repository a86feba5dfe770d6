package rulegen_test

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/internal/testenv"
)

// historySpec has a 28-day 99.9% SLO (the textbook's) and a 2-hour 99% SLO
// short enough to fill its period in a test, both on one ratio signal.
const historySpec = `version: redline/v1
service: shop
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{job="shop", code=~"5.."}
    total: http_requests_total{job="shop"}
    threshold: 1%
slos:
  - name: availability
    signal: errors
    objective: 99.9%
    period: 28d
    min_rate: 0
  - name: boundary
    signal: errors
    objective: 99%
    period: 2h
    min_rate: 0
    freeze_for: 2m
    windows:
      - {long: 1h, short: 5m, factor: 14.4}
alertmanager:
  webhook_url: http://127.0.0.1:9095/hook
`

// textbookRemaining is the share of an error budget left after a spend,
// as the SRE books define it: errors ÷ (the period's requests × the
// allowed error ratio), at a constant request rate, with errorMinutes
// minutes' worth of requests failed.
func textbookRemaining(errorMinutes, periodMinutes, allowed float64) float64 {
	return 1 - errorMinutes/periodMinutes/allowed
}

// requests writes the two series of the shop's requests: ok and failed
// per minute for each phase of minutes.
func requests(phases ...[3]float64) string {
	var ok, failed []string
	var okAt, failedAt float64
	for i, p := range phases {
		n, good, bad := int(p[0]), p[1], p[2]
		if i == 0 {
			ok = append(ok, fmt.Sprintf("0+%gx%d", good, n))
			failed = append(failed, fmt.Sprintf("0+%gx%d", bad, n))
		} else {
			ok = append(ok, fmt.Sprintf("%g+%gx%d", okAt+good, good, n-1))
			failed = append(failed, fmt.Sprintf("%g+%gx%d", failedAt+bad, bad, n-1))
		}
		okAt += good * float64(n)
		failedAt += bad * float64(n)
	}
	return fmt.Sprintf(`      - series: 'http_requests_total{job="shop", code="200"}'
        values: '%s'
      - series: 'http_requests_total{job="shop", code="500"}'
        values: '%s'
`, strings.Join(ok, " "), strings.Join(failed, " "))
}

// TestBudgetOnShortHistory reproduces issue 23's numbers with the real
// promtool against the generated rules, each expectation computed from
// the textbook: errors ÷ (the period's expected requests × the allowed
// ratio). Before, the budget divided by the requests seen so far, so an
// hour of history extrapolated a blip over the whole period.
func TestBudgetOnShortHistory(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	dir := generatedShop(t, historySpec)
	const period = 28 * 24 * 60
	// A 1.5× burn from the first sample, read after 1h: 1.5 × 1h of a
	// 28-day budget is spent (the old rules read -50%).
	burn := textbookRemaining(1.5*0.001*60, period, 0.001)
	// 25h clean, then 30 minutes at 10% errors, read once the last errors
	// are in every 5m rate (the old rules read -77% and less).
	blip := textbookRemaining(0.1*30, period, 0.001)
	// A whole period and a day more at half the budget's ratio: half the
	// budget, exactly, as before.
	full := textbookRemaining(0.0005*period, period, 0.001)
	round3 := func(v float64) float64 { return math.Round(v*1000) / 1000 }
	tests := fmt.Sprintf(`rule_files: [shop.rules.yml]
evaluation_interval: 1m
group_eval_order: [shop.recording, shop.slo, shop.alerts]
tests:
  - name: a 1.5x burn from the first sample, after 1h
    interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: round(service:availability:error_budget_remaining * 1000) / 1000
        eval_time: 1h
        exp_samples: [{labels: '{}', value: %g}]
    alert_rule_test:
      - {eval_time: 1h, alertname: AvailabilityErrorBudgetFreeze, exp_alerts: []}
  - name: 25h clean, then 30m at 10%% errors
    interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: round(service:availability:error_budget_remaining * 1000) / 1000
        eval_time: 25h36m
        exp_samples: [{labels: '{}', value: %g}]
`, requests([3]float64{61, 1997, 3}), round3(burn),
		requests([3]float64{25 * 60, 2000, 0}, [3]float64{30, 1800, 200}, [3]float64{10, 2000, 0}), round3(blip))
	if err := os.WriteFile(filepath.Join(dir, "rules", "history.test.yml"), []byte(tests), 0o644); err != nil {
		t.Fatal(err)
	}
	// The full period evaluates hourly (the rules do not depend on the
	// evaluation interval) so that 29 days are 696 steps.
	long := fmt.Sprintf(`rule_files: [shop.rules.yml]
evaluation_interval: 1h
group_eval_order: [shop.recording, shop.slo, shop.alerts]
tests:
  - name: a whole period at half the allowed ratio
    interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: round(service:availability:error_budget_remaining * 1e12) / 1e12
        eval_time: 29d
        exp_samples: [{labels: '{}', value: %g}]
`, requests([3]float64{29*24*60 + 1, 1999, 1}), full)
	if err := os.WriteFile(filepath.Join(dir, "rules", "full.test.yml"), []byte(long), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"history.test.yml", "full.test.yml"} {
		if out, err := exec.Command(promtool, "test", "rules", filepath.Join(dir, "rules", f)).CombinedOutput(); err != nil {
			t.Errorf("%s: textbook budgets %.4f (1.5x burn at 1h), %.4f (30m at 10%% after 25h), %.4f (full period):\n%s", f, burn, blip, full, out)
		}
	}
}

// TestFreezeAtExactlyFreezeBelow: a steady burn over a whole period that
// leaves exactly freeze_below sums to a hair under it in floats; the
// freeze must stay silent there and fire just below.
func TestFreezeAtExactlyFreezeBelow(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	dir := generatedShop(t, historySpec)
	// 99% over 2h: 0.9% errors spend 90% of the budget, leaving 10%.
	tests := fmt.Sprintf(`rule_files: [shop.rules.yml]
evaluation_interval: 1m
group_eval_order: [shop.recording, shop.slo, shop.alerts]
tests:
  - name: exactly 10%% left for an hour
    interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: round(service:boundary:error_budget_remaining * 1e9) / 1e9
        eval_time: 3h
        exp_samples: [{labels: '{}', value: 0.1}]
      - expr: count_over_time(ALERTS{alertname="BoundaryErrorBudgetFreeze"}[1h])
        eval_time: 3h
        exp_samples: []
  - name: 9.9%% left
    interval: 1m
    input_series:
%s    promql_expr_test:
      - expr: round(service:boundary:error_budget_remaining * 1e9) / 1e9
        eval_time: 3h
        exp_samples: [{labels: '{}', value: 0.099}]
      - expr: count(ALERTS{alertname="BoundaryErrorBudgetFreeze", alertstate="firing"})
        eval_time: 3h
        exp_samples: [{labels: '{}', value: 1}]
`, requests([3]float64{181, 991, 9}), requests([3]float64{181, 99099, 901}))
	path := filepath.Join(dir, "rules", "boundary.test.yml")
	if err := os.WriteFile(path, []byte(tests), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("%s", out)
	}
}
