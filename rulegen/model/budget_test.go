package model

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/rulegen/spec"
)

const budgetSpec = `version: redline/v1
service: api
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{code=~"5.."}
    total: http_requests_total
    threshold: 0.1%
slos:
  - name: availability
    signal: errors
    objective: 99.9%
    min_rate: 0.5
    period: PERIOD
    windows:
      - {long: 1h, short: 5m, factor: 14.4}
alertmanager:
  webhook_url: http://localhost/hook
`

// budgetRules prints every rule and alert of the error budget, with the
// period's spellings replaced by PERIOD.
func budgetRules(t *testing.T, period string) string {
	t.Helper()
	m := mustBuild(t, "budget.yml", strings.Replace(budgetSpec, "PERIOD", period, 1))
	if len(m.Budgets) != 1 || m.Budgets[0].Freeze == nil {
		t.Fatalf("period %s: want one budget with a freeze alert, got %+v", period, m.Budgets)
	}
	b := m.Budgets[0]
	d := spec.MustDuration(period)
	var out []string
	for _, r := range m.Recordings {
		if r.Record == b.Ratio || r.Record == b.BurnRate || r.Record == b.Remaining || r.Record == BudgetSampleTimeRecord(b.Signal) {
			out = append(out, r.Record+" = "+r.Expr)
		}
	}
	a := b.Freeze
	out = append(out, a.Name+" = "+a.Expr, a.Annotations["summary"], a.Annotations["description"])
	text := strings.Join(out, "\n")
	text = strings.ReplaceAll(text, "["+windowRange(b.Signal, d)+"]", "[PERIOD - 5m]")
	span := strconv.FormatFloat(time.Duration(d.Duration-b.Signal.Window.Duration).Seconds(), 'f', -1, 64)
	text = strings.ReplaceAll(text, "/ "+span+", 1)", "/ (PERIOD - 5m in seconds), 1)")
	return strings.ReplaceAll(text, d.String(), "PERIOD")
}

// TestBudgetRulesDoNotDependOnPeriod: the generated tests simulate a short
// period (28 days are 40,320 steps); that proves the 28-day rules only if
// they are the same rules with another range.
func TestBudgetRulesDoNotDependOnPeriod(t *testing.T) {
	want := budgetRules(t, "28d")
	if !strings.Contains(want, "[PERIOD - 5m]") {
		t.Fatalf("the period's range was not found in:\n%s", want)
	}
	for _, p := range []string{"2h", "6h", "30d"} {
		if got := budgetRules(t, p); got != want {
			t.Errorf("period %s gives other rules than 28d:\n%s\nwant:\n%s", p, got, want)
		}
	}
}

// TestBudgetNames pins the names that other tools read (preflight reads
// the remaining budget; pipelines match the freeze alert).
func TestBudgetNames(t *testing.T) {
	m := mustBuild(t, "budget.yml", strings.Replace(budgetSpec, "PERIOD", "28d", 1))
	b := m.Budgets[0]
	if got := BudgetRemainingRecord(b.SLO); got != "service:availability:error_budget_remaining" || b.Remaining != got {
		t.Errorf("remaining budget recorded as %q (model says %q)", got, b.Remaining)
	}
	if b.Ratio != SLOWindowRecord(b.SLO, "4w") {
		t.Errorf("period ratio recorded as %q", b.Ratio)
	}
	a := m.AlertByName("AvailabilityErrorBudgetFreeze")
	if a == nil || a != b.Freeze {
		t.Fatal("no AvailabilityErrorBudgetFreeze alert")
	}
	for k, v := range map[string]string{"freeze": "true", "action": "freeze", "slo": "availability", "severity": "info"} {
		if a.Labels[k] != v {
			t.Errorf("freeze alert label %s=%q, want %q", k, a.Labels[k], v)
		}
	}
	if _, ok := a.Labels["rollback"]; ok {
		t.Error("a freeze is no rollback")
	}
	if want := "service:availability:error_budget_remaining < 0.1 - 1e-09\nand\navg_over_time(service:errors_total:rate5m[27d23h55m]) >= 0.5"; a.Expr != want {
		t.Errorf("freeze expr:\n%s\nwant:\n%s", a.Expr, want)
	}
}

// TestShortWindowReadsTheRecording: a short window as long as the signal's
// recording window is that recording's ratio, and longer windows read one
// recording window less of recorded samples — no window lags by one more.
func TestShortWindowReadsTheRecording(t *testing.T) {
	m := mustBuild(t, "budget.yml", strings.Replace(budgetSpec, "PERIOD", "28d", 1))
	want := map[string]string{
		"service:availability:error_ratio_rate5m": "service:errors_errors:rate5m / service:errors_total:rate5m",
		"service:availability:error_ratio_rate1h": "sum_over_time(service:errors_errors:rate5m[55m]) / sum_over_time(service:errors_total:rate5m[55m])",
	}
	for _, r := range m.Recordings {
		if w, ok := want[r.Record]; ok {
			if r.Expr != w {
				t.Errorf("%s = %s, want %s", r.Record, r.Expr, w)
			}
			delete(want, r.Record)
		}
	}
	if len(want) > 0 {
		t.Errorf("not recorded: %v", want)
	}
}

func TestBudgetWithoutFreeze(t *testing.T) {
	m := mustBuild(t, "budget.yml", strings.Replace(budgetSpec, "PERIOD", "28d\n    freeze_below: 0", 1))
	if len(m.Budgets) != 1 || m.Budgets[0].Freeze != nil {
		t.Fatalf("freeze_below: 0 still adds a freeze alert")
	}
	if m.AlertByName("AvailabilityErrorBudgetFreeze") != nil {
		t.Error("freeze alert generated with freeze_below: 0")
	}
}
