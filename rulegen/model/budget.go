package model

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"time"

	commonmodel "github.com/prometheus/common/model"

	"github.com/redline-sre/redline/rulegen/spec"
)

// Budget is an SLO's error budget over its period: the error ratio of the
// whole period, how fast it spends the budget, and what is left.
type Budget struct {
	SLO    *spec.SLO
	Signal *Signal
	// Ratio, BurnRate and Remaining are the recorded series: the error
	// ratio over the part of the period the recorded rates cover, the
	// share of the budget spent (errors over the period's expected
	// requests × the allowed ratio; on a full history the period's ratio
	// in budgets), and 1 − BurnRate, the share of the budget left
	// (negative once it is overspent).
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

// FreezeTolerance is how far below freeze_below the remaining budget must
// be for the freeze to fire: float sums leave a steady burn at exactly the
// threshold a few 1e-15 under it.
const FreezeTolerance = "1e-09"

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

// BudgetSampleTimeRecord names the recorded time of each evaluation at
// which a signal has traffic: the oldest such sample within the period
// says how much of the period the recorded rates cover.
func BudgetSampleTimeRecord(sig *Signal) string { return sig.Traffic + "_timestamp" }

// coverage is the share of an SLO's period that its signal's recorded
// rates cover: the time since their oldest sample within the period, over
// the range a full period's samples span (windowRange), at most 1. The
// oldest sample is looked for over the whole period, one recording window
// more than that range, so that on a full history it lies at least the
// range back and the share is exactly 1.
func coverage(m *Model, sig *Signal, period spec.Duration) string {
	ts := BudgetSampleTimeRecord(sig)
	if !m.recorded(ts) {
		rec := m.recording(sig.Traffic)
		m.record(ts, "("+rec.Expr+") * 0 + time()")
	}
	span := time.Duration(period.Duration - sig.Window.Duration).Seconds()
	return fmt.Sprintf("clamp_max((time() - min_over_time(%s[%s])) / %s, 1)", ts, period.String(), strconv.FormatFloat(span, 'f', -1, 64))
}

// addBudget records the SLO's period error ratio, the share of its budget
// spent and the share left, and adds the release-freeze alert.
//
// The budget is the errors spent over the period's expected requests ×
// the allowed error ratio. The requests expected over the whole period
// are scaled from the part of it the recorded rates cover: the error
// ratio over the covered part × the covered share of the period. On a full
// history that is the period's error ratio ÷ the allowed one; on a short
// one (rules loaded an hour ago, a retention shorter than the period) a
// blip spends what it would spend in a full period instead of being
// extrapolated over it.
//
// Every evaluation reads the period's recorded 5m rates (one sample per
// evaluation interval each), never raw series over the period; each rule
// of the SLO group reads only recordings of the recording group, so that
// vmalert computes what Prometheus does.
func (m *Model) addBudget(o *spec.SLO, sig *Signal) {
	allowed := new(big.Rat).Sub(big.NewRat(1, 1), o.Objective.Rat())
	b := &Budget{SLO: o, Signal: sig, Allowed: allowed}
	ratio := errorRatioExpr(sig, o.Period)
	// A burn window as long as the period has recorded the same ratio.
	b.Ratio = SLOWindowRecord(o, o.Period.String())
	if !m.recorded(b.Ratio) {
		m.recordSLO(b.Ratio, ratio)
	}
	spent := fmt.Sprintf("(%s) * %s / %s", ratio, coverage(m, sig, o.Period), spec.FormatRat(allowed))
	b.BurnRate = m.recordSLO(BudgetBurnRateRecord(o), spent)
	b.Remaining = m.recordSLO(BudgetRemainingRecord(o), "1 - "+spent)
	b.Views = burnViews(m, o, sig, allowed)
	m.Budgets = append(m.Budgets, b)
	if !o.Freezes() {
		return
	}
	below := o.FreezeBelow.Rat()
	a := &Alert{
		Name: o.FreezeAlert(),
		// A steady burn that leaves exactly freeze_below sums to a hair
		// below it (0.09999999999999776), which would fire and resolve
		// over and over; 1e-9 is far above float noise and far below a
		// spend that means anything.
		Expr:   fmt.Sprintf("%s < %s - %s", b.Remaining, spec.FormatRat(below), FreezeTolerance),
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
