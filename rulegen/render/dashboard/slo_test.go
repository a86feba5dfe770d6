package dashboard_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/render/dashboard"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
)

func renderSLO(t *testing.T) (*grafana.Dashboard, []byte) {
	t.Helper()
	m := load(t, "")
	f, err := dashboard.RenderSLO(m)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path != "dashboards/platform-slo.json" {
		t.Errorf("path = %q", f.Path)
	}
	if err := dashboard.Validate(f.Data); err != nil {
		t.Fatal(err)
	}
	d, err := grafana.Unmarshal(f.Data)
	if err != nil {
		t.Fatal(err)
	}
	return d, f.Data
}

// TestSLODashboard: per SLO of the platform spec, the remaining budget as
// a gauge whose colour changes at the freeze threshold, the burn rate over
// 1h, 6h and 1d (each against its window's factor) and over the period,
// and the remaining budget over time; the dashboards link to each other.
func TestSLODashboard(t *testing.T) {
	d, _ := renderSLO(t)
	if d.UID != "redline-platform-slo" || !strings.HasSuffix(d.From, "4w") {
		t.Errorf("uid %q from %q, want redline-platform-slo over the 4w period", d.UID, d.From)
	}
	if len(d.Panels) != 6 {
		t.Fatalf("%d panels, want 3 for each of the 2 SLOs", len(d.Panels))
	}
	gauge, burn, history := d.Panels[0], d.Panels[1], d.Panels[2]
	if gauge.Type != grafana.TypeGauge || gauge.Targets[0].Expr != "service:api_availability:error_budget_remaining" || gauge.Unit != "percentunit" {
		t.Errorf("gauge: %+v", gauge)
	}
	if len(gauge.Thresholds) != 2 || *gauge.Thresholds[1].Value != 0.1 || gauge.Thresholds[0].Color != "red" {
		t.Errorf("gauge thresholds %+v, want red below the 10%% freeze", gauge.Thresholds)
	}
	var legends []string
	for _, tg := range burn.Targets {
		legends = append(legends, tg.Legend+" = "+tg.Expr)
	}
	want := []string{
		"1h (alert at 14.4×) = service:api_availability:error_ratio_rate1h / 0.001",
		"6h (alert at 6×) = service:api_availability:error_ratio_rate6h / 0.001",
		"1d (alert at 3×) = service:api_availability:error_ratio_rate1d / 0.001",
		"4w (period) = service:api_availability:period_burn_rate",
	}
	if strings.Join(legends, "\n") != strings.Join(want, "\n") {
		t.Errorf("burn-rate targets:\n%s\nwant:\n%s", strings.Join(legends, "\n"), strings.Join(want, "\n"))
	}
	var steps []float64
	for _, s := range burn.Thresholds[1:] {
		steps = append(steps, *s.Value)
	}
	if len(steps) != 3 || steps[0] != 3 || steps[1] != 6 || steps[2] != 14.4 {
		t.Errorf("burn-rate threshold lines %v, want the factors 3, 6, 14.4", steps)
	}
	if history.Type != grafana.TypeTimeseries || history.Targets[0].Expr != gauge.Targets[0].Expr {
		t.Errorf("history: %+v", history)
	}
	if !strings.Contains(gauge.Description, "ApiAvailabilityErrorBudgetFreeze") {
		t.Errorf("gauge description does not name the freeze: %s", gauge.Description)
	}
	if len(d.Links) != 1 || d.Links[0].URL != "/d/redline-platform" {
		t.Errorf("SLO dashboard links %+v, want the deploy-safety dashboard", d.Links)
	}
	safety, err := grafana.Unmarshal(render(t, load(t, "")))
	if err != nil {
		t.Fatal(err)
	}
	if len(safety.Panels) != 10 || len(safety.Links) != 1 || safety.Links[0].URL != "/d/"+d.UID {
		t.Errorf("deploy-safety dashboard: %d panels, links %+v; want 10 panels and a link to /d/%s", len(safety.Panels), safety.Links, d.UID)
	}
}

// TestSLODashboardBurnViewsFromRates: a view window no burn window records
// (6h here) is summed from the recorded 5m rates, like the rules do.
func TestSLODashboardBurnViewsFromRates(t *testing.T) {
	m := load(t, "")
	for _, b := range m.Budgets {
		for _, v := range b.Views {
			if v.Window.String() == "6h" && v.Factor == nil {
				t.Errorf("6h has no factor although the default windows have one")
			}
		}
	}
	spec := filepath.Join(t.TempDir(), "one.yml")
	text := `version: redline/v1
service: api
signals:
  - {name: errors, kind: ratio, errors: 'http_requests_total{code=~"5.."}', total: http_requests_total, threshold: 1%}
slos:
  - {name: availability, signal: errors, objective: 99%, windows: [{long: 1h, short: 5m, factor: 14.4}]}
alertmanager: {webhook_url: http://localhost/hook}
`
	if err := os.WriteFile(spec, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	mm := load(t, spec)
	got := map[string]string{}
	for _, v := range mm.Budgets[0].Views {
		got[v.Window.String()] = v.Expr
	}
	if want := "(sum_over_time(service:errors_errors:rate5m[5h55m]) / sum_over_time(service:errors_total:rate5m[5h55m])) / 0.01"; got["6h"] != want {
		t.Errorf("6h view = %q, want %q", got["6h"], want)
	}
	if got["1h"] != "service:availability:error_ratio_rate1h / 0.01" {
		t.Errorf("1h view = %q", got["1h"])
	}
	f, err := dashboard.RenderSLO(mm)
	if err != nil {
		t.Fatal(err)
	}
	if err := dashboard.Validate(f.Data); err != nil {
		t.Fatal(err)
	}
}

// TestSLODashboardLint runs Grafana's dashboard-linter in strict mode on
// the SLO dashboard, with the directory's linter configuration, when the
// linter is installed (docs/dashboard.md says how).
func TestSLODashboardLint(t *testing.T) {
	linter, err := exec.LookPath("dashboard-linter")
	if err != nil {
		t.Skip("dashboard-linter not installed")
	}
	_, data := renderSLO(t)
	dir := t.TempDir()
	lint, err := os.ReadFile(filepath.Join("..", "..", "..", "dashboards", ".lint"))
	if err != nil {
		// The exclusions (job and instance pickers) are committed beside
		// the dashboards; without them strict mode cannot pass.
		t.Skipf("no linter configuration: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".lint"), lint, 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "platform-slo.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(linter, "lint", "--strict", p).CombinedOutput(); err != nil {
		t.Errorf("dashboard-linter lint --strict:\n%s", out)
	}
}

func TestNoSLONoDashboard(t *testing.T) {
	m := load(t, "")
	m.Budgets = nil
	f, err := dashboard.RenderSLO(m)
	if err != nil || f.Path != "" {
		t.Errorf("a spec without SLOs rendered %q (%v)", f.Path, err)
	}
}
