package model

import (
	"fmt"
	"math/big"
	"sort"

	commonmodel "github.com/prometheus/common/model"

	"github.com/redline-sre/redline/rulegen/spec"
)

// Budget is an SLO's error budget over its period: the error ratio of the
// whole period, how fast it spends the budget, and what is left.
type Budget struct {
	SLO    *spec.SLO
	Signal *Signal
	// Ratio, BurnRate and Remaining are the recorded series: the period's
	// error ratio, that ratio in budgets (1 = on track to spend exactly the
	// budget), and 1 − BurnRate, the share of the budget left (negative
	// once it is overspent).
	Ratio, BurnRate, Remaining string
	// Allowed is the error budget as an error ratio (1 − objective).
	Allowed *big.Rat
	// Freeze is the release-freeze alert, nil when freeze_below is 0.
	Freeze *Alert
	// Views are the burn rates a dashboard shows, shortest window first:
	// 1h, 6h and 1d, and every other long window of the SLO.
	Views []BurnView
}

// BurnView is the burn rate of an SLO over one window.
type BurnView struct {
	Window spec.Duration
	// Expr is the error ratio over the window in budgets: the recorded
	// ratio where a burn window records it, otherwise the same sum over
	// the recorded rates.
	Expr string
	// Factor is the burn factor of the SLO's burn window with this long
	// window, nil when there is none.
	Factor *spec.Quantity
}

// viewWindows are the burn-rate windows every SLO dashboard shows.
var viewWindows = []string{"1h", "6h", "1d"}

// FreezeRoute is where release-freeze alerts go: a webhook of the CI/CD
// system that holds releases while an SLO's budget is nearly spent.
type FreezeRoute struct {
	Receiver, WebhookURL string
}

// BudgetRemainingRecord names the recorded share of an SLO's error budget
// left over its period.
func BudgetRemainingRecord(o *spec.SLO) string {
	return "service:" + o.Name + ":error_budget_remaining"
}

// BudgetBurnRateRecord names the recorded burn rate of an SLO over its
// whole period.
func BudgetBurnRateRecord(o *spec.SLO) string {
	return "service:" + o.Name + ":period_burn_rate"
}

// windowRange is the range over a signal's recorded rates that covers d of
// raw data: each recorded sample already looks one recording window back,
// so the range is that much shorter. Zero means the recording itself.
func windowRange(sig *Signal, d spec.Duration) string {
	r := d.Duration - sig.Window.Duration
	if r <= 0 {
		return ""
	}
	return commonmodel.Duration(r).String()
}

// errorRatioExpr is an SLO signal's error ratio over d, read from its
// recorded rates: the recorded ratio itself for the recording's own
// window, so that the short window resets one window after errors stop
// instead of two.
func errorRatioExpr(sig *Signal, d spec.Duration) string {
	return sig.kind().errorRatio(sig, windowRange(sig, d))
}

// meanTraffic is the mean request rate over d from the recorded rates.
func meanTraffic(sig *Signal, d spec.Duration) string {
	r := windowRange(sig, d)
	if r == "" {
		return sig.Traffic
	}
	return fmt.Sprintf("avg_over_time(%s[%s])", sig.Traffic, r)
}

func burnViews(m *Model, o *spec.SLO, sig *Signal, allowed *big.Rat) []BurnView {
	var ds []spec.Duration
	for _, w := range viewWindows {
		ds = append(ds, spec.MustDuration(w))
	}
	for _, w := range o.Windows {
		ds = append(ds, w.Long)
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Duration < ds[j].Duration })
	var views []BurnView
	for _, d := range ds {
		if len(views) > 0 && views[len(views)-1].Window.Duration == d.Duration {
			continue
		}
		v := BurnView{Window: d}
		if rec := SLOWindowRecord(o, d.String()); m.recorded(rec) {
			v.Expr = rec + " / " + spec.FormatRat(allowed)
		} else {
			v.Expr = "(" + errorRatioExpr(sig, d) + ") / " + spec.FormatRat(allowed)
		}
		for _, w := range o.Windows {
			if w.Long.Duration == d.Duration {
				v.Factor = w.Factor
				break
			}
		}
		views = append(views, v)
	}
	return views
}

func (m *Model) recorded(name string) bool {
	for _, r := range m.Recordings {
		if r.Record == name {
			return true
		}
	}
	return false
}

// percent prints a share as a percentage without float artefacts.
func percent(r *big.Rat) string {
	return spec.FormatRat(new(big.Rat).Mul(r, big.NewRat(100, 1))) + "%"
}

// addBudget records the SLO's period error ratio, burn rate and remaining
// budget, and adds the release-freeze alert. Every evaluation reads the
// period's recorded 5m rates (two series, one sample per evaluation
// interval each), never raw series over the period.
func (m *Model) addBudget(o *spec.SLO, sig *Signal) {
	allowed := new(big.Rat).Sub(big.NewRat(1, 1), o.Objective.Rat())
	b := &Budget{SLO: o, Signal: sig, Allowed: allowed}
	// A burn window as long as the period has recorded the same ratio.
	b.Ratio = SLOWindowRecord(o, o.Period.String())
	if !m.recorded(b.Ratio) {
		m.record(b.Ratio, errorRatioExpr(sig, o.Period))
	}
	b.BurnRate = m.record(BudgetBurnRateRecord(o), b.Ratio+" / "+spec.FormatRat(allowed))
	b.Remaining = m.record(BudgetRemainingRecord(o), "1 - "+b.BurnRate)
	b.Views = burnViews(m, o, sig, allowed)
	m.Budgets = append(m.Budgets, b)
	if !o.Freezes() {
		return
	}
	below := o.FreezeBelow.Rat()
	a := &Alert{
		Name:   o.FreezeAlert(),
		Expr:   fmt.Sprintf("%s < %s", b.Remaining, spec.FormatRat(below)),
		For:    o.FreezeFor,
		Budget: b,
	}
	traffic := ""
	if o.MinRate != nil && o.MinRate.Rat().Sign() > 0 {
		// As for the burn windows: a handful of requests proves nothing.
		a.Expr += fmt.Sprintf("\nand\n%s >= %s", meanTraffic(sig, o.Period), o.MinRate.String())
		traffic = fmt.Sprintf(", with at least %s requests/s over the period", o.MinRate.String())
	}
	// info: a freeze stops releases, it pages nobody, and no critical
	// alert's inhibit rule may hold it back.
	a.Labels = m.baseLabels("info", "freeze", sig.Name)
	a.Labels["slo"] = o.Name
	a.Labels["freeze"] = "true"
	a.Annotations = map[string]string{
		"summary": fmt.Sprintf("%s: SLO %s has {{ $value | humanizePercentage }} of its %s error budget left; releases freeze below %s",
			a.Name, o.Name, o.Period.String(), percent(below)),
		"description": fmt.Sprintf("Over %s, %s has spent all but {{ $value | humanizePercentage }} of the %s error budget of SLO %s (%s). Releases stop while less than %s is left for %s%s; they resume as old errors leave the period. The freeze pages nobody: the burn-rate alerts do.",
			o.Period.String(), sig.Name, percent(allowed), o.Name, percent(o.Objective.Rat()), percent(below), o.FreezeFor.String(), traffic),
	}
	b.Freeze = a
	m.Alerts = append(m.Alerts, a)
	if m.Freeze == nil {
		am := m.Alertmanager
		m.Freeze = &FreezeRoute{Receiver: am.FreezeReceiver, WebhookURL: am.FreezeWebhookURL}
	}
}
