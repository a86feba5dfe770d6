package promtest

import (
	"fmt"
	"math"

	"github.com/redline-sre/redline/rulegen/model"
)

// shortPeriod is the longest SLO period (in minutes) whose tests also let
// a spend leave the period: simulating 28 days would take 40,320 steps.
// The rules are the same for every period but for its length (a test in
// model proves it), so a short period shows what a long one does.
const shortPeriod = 6 * 60

// freezeTraffic is the request rate (per minute) of the freeze tests: far
// above min_rate, so that the mean rate over the period passes the guard
// from the first sample on although rate() ramps up over its first window;
// the min_rate test below checks the guard.
func freezeTraffic(b *model.Budget) float64 { return trafficPerMin(b.Signal) }

// firstRecorded is the minute of a test's first recorded rate: rate()
// needs two samples.
const firstRecorded = 1

// budgetSpan is the range in minutes that a full period's recorded rates
// span (the period less one recording window): the covered share of the
// period is the time since the first recorded rate over it.
func budgetSpan(b *model.Budget) float64 {
	return float64(minutesOf(b.SLO.Period) - minutesOf(b.Signal.Window))
}

// covered is the share of the period the recorded rates cover at minute
// at of a test whose rates exist from the first minute.
func covered(b *model.Budget, at int) float64 {
	return math.Min(1, float64(at-firstRecorded)/budgetSpan(b))
}

// spent is the share of the budget a steady error ratio r from the first
// sample has spent at minute at: r over the covered part of the period ×
// the covered share, in budgets.
func spent(b *model.Budget, r float64, at int) float64 {
	allowed, _ := b.Allowed.Float64()
	return r * covered(b, at) / allowed
}

// crossingBurn is a steady error ratio from the first sample that takes
// the remaining budget below freeze_below half a minute before minute at,
// and the minute at itself: the earliest minute from 100 on (so that one
// minute spends less than 1% of the budget, and a threshold moved by a
// point moves the crossing) for which that ratio is at most 1. ok is false when no such
// minute lies within the period (the budget cannot be spent before the
// rates cover the whole of it).
func crossingBurn(b *model.Budget) (r float64, at int, ok bool) {
	allowed, _ := b.Allowed.Float64()
	below, _ := b.SLO.FreezeBelow.Rat().Float64()
	need := (1 - below) * budgetSpan(b) * allowed // minutes of 100% errors
	at = max(100, int(math.Ceil(need+firstRecorded+0.5))+1)
	if float64(at-firstRecorded) >= budgetSpan(b) {
		return 0, 0, false
	}
	return need / (float64(at-firstRecorded) - 0.5), at, true
}

// budgetTests checks an SLO's remaining budget and its release freeze. A
// steady error ratio r from the first sample spends r × the covered share
// of the period ÷ budget: the rates of a short history count for what
// they cover, not for the whole period. The freeze stays silent the
// minute before the budget left crosses freeze_below, fires exactly once
// `for` has passed after, and without traffic has nothing to say. A
// period short enough to simulate also gets its spend back once the
// errors leave the period, and a slow burn after a clean period freezes
// before the budget is gone.
func budgetTests(a *model.Alert) ([]Group, error) {
	b := a.Budget
	below, _ := b.SLO.FreezeBelow.Rat().Float64()
	forMin := minutesOf(a.For)
	traffic := freezeTraffic(b)
	put := func(ratio float64, traffic float64, length int) (*input, error) {
		in := newInput()
		return in, burnInput(in, b.Signal, ratio, traffic, length)
	}
	r, crosses, ok := crossingBurn(b)
	if !ok {
		return nil, fmt.Errorf("SLO %s: even 100%% errors cannot spend %s of the budget before the rates cover the period", b.SLO.Name, pct(1-below))
	}
	firesAt := crosses + forMin
	evalAt := firesAt + 2

	var groups []Group
	in, err := put(r, traffic, evalAt+1)
	if err != nil {
		return nil, err
	}
	remaining := 1 - spent(b, r, firesAt)
	fire := Group{
		Name: fmt.Sprintf("%s: fires once less than %s of the budget is left for %s (a steady %s error ratio from the first sample)",
			a.Name, pct(below), a.For.String(), pct(r)),
		Interval:    "1m",
		InputSeries: in.seriesList(),
		AlertRuleTests: []AlertTest{
			{EvalTime: minutes(crosses - 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}},
			{EvalTime: minutes(firesAt - 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}},
			{EvalTime: minutes(firesAt), Alertname: a.Name, ExpAlerts: []ExpAlert{expected(a, "{{ $value | humanizePercentage }}", humanizePercentage(remaining), nil)}},
		},
		ExprTests: budgetRecordings(b, r, evalAt),
	}
	groups = append(groups, fire)

	// Without traffic there is nothing to wait for: the freeze is silent
	// once `for` has passed.
	idleAt := forMin + 3
	if in, err = put(-1, 0, idleAt+1); err != nil {
		return nil, err
	}
	groups = append(groups, Group{
		Name:           a.Name + ": silent with no traffic",
		Interval:       "1m",
		InputSeries:    in.seriesList(),
		AlertRuleTests: []AlertTest{{EvalTime: minutes(idleAt), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
	})
	if m := b.SLO.MinRate; m != nil && m.Rat().Sign() > 0 {
		mr, _ := m.Rat().Float64()
		if in, err = put(1, mr*60/2, evalAt+1); err != nil {
			return nil, err
		}
		groups = append(groups, Group{
			Name:           fmt.Sprintf("%s: silent below min_rate (%s requests/s) even at 100%% errors", a.Name, num(mr/2)),
			Interval:       "1m",
			InputSeries:    in.seriesList(),
			AlertRuleTests: []AlertTest{{EvalTime: minutes(evalAt), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
			ExprTests:      []ExprTest{{Expr: b.Remaining + " < bool " + num(below), EvalTime: minutes(evalAt), ExpSamples: []Sample{{Labels: "{}", Value: 1}}}},
		})
	}
	if g, ok, err := recoveryTest(a, traffic); err != nil {
		return nil, err
	} else if ok {
		groups = append(groups, g)
	}
	if g, ok, err := slowBurnTest(a, siblingFactor(a), traffic); err != nil {
		return nil, err
	} else if ok {
		groups = append(groups, g)
	}
	return groups, nil
}

// siblingFactor is 97% of the lowest burn factor of the SLO's windows: the
// fastest steady burn that no burn-rate alert catches (2.9× under the
// default 3×).
func siblingFactor(a *model.Alert) float64 {
	lowest := math.Inf(1)
	for _, w := range a.Budget.SLO.Windows {
		f, _ := w.Factor.Rat().Float64()
		lowest = math.Min(lowest, f)
	}
	return 0.97 * lowest
}

// slowBurnTest checks that the freeze catches a slow burn before the
// budget is gone: after a whole period without errors, a steady burn of
// factor× leaves less than freeze_below after 0.9·period/factor and spends
// the budget after period/factor. The freeze must fire, with budget left,
// in between. ok is false when the period is too long to simulate or too
// short for `for` (plus a recording window of ramp) to fit in between.
func slowBurnTest(a *model.Alert, factor, traffic float64) (Group, bool, error) {
	b := a.Budget
	period := minutesOf(b.SLO.Period)
	below, _ := b.SLO.FreezeBelow.Rat().Float64()
	if period > shortPeriod || math.IsInf(factor, 0) {
		return Group{}, false, nil
	}
	ramp := minutesOf(b.Signal.Window)
	freezes := int(math.Ceil((1-below)*float64(period)/factor)) + ramp + minutesOf(a.For)
	gone := int(math.Floor(float64(period)/factor)) - 1
	if freezes >= gone {
		return Group{}, false, nil
	}
	allowed, _ := b.Allowed.Float64()
	healthy, burning := newInput(), newInput()
	if err := burnInput(healthy, b.Signal, 0, traffic, period); err != nil {
		return Group{}, false, err
	}
	if err := burnInput(burning, b.Signal, allowed*factor, traffic, gone+1); err != nil {
		return Group{}, false, err
	}
	in := stepped(healthy, burning, period, gone+1)
	at := minutes(period + gone)
	return Group{
		Name: fmt.Sprintf("%s: a steady %s× burn after a clean %s freezes within %s, before the budget is gone at %s",
			a.Name, num(math.Round(factor*100)/100), b.SLO.Period.String(), minutes(freezes), minutes(gone+1)),
		Interval:       "1m",
		InputSeries:    in.seriesList(),
		AlertRuleTests: []AlertTest{{EvalTime: minutes(period), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
		ExprTests: []ExprTest{
			{Expr: fmt.Sprintf("count(ALERTS{alertname=%q, alertstate=\"firing\"})", a.Name), EvalTime: at, ExpSamples: []Sample{{Labels: "{}", Value: 1}}},
			{Expr: b.Remaining + " > bool 0", EvalTime: at, ExpSamples: []Sample{{Labels: "{}", Value: 1}}},
		},
	}, true, nil
}

// recoveryTest spends most of a short period's budget, then serves without
// errors: the freeze fires, the spend holds while no error is added (the
// errors are counted against the whole period's expected requests, so
// more clean traffic does not dilute them), and once the errors have left
// the period the whole budget is back and the freeze resolves.
func recoveryTest(a *model.Alert, traffic float64) (Group, bool, error) {
	b := a.Budget
	period := minutesOf(b.SLO.Period)
	if period > shortPeriod {
		return Group{}, false, nil
	}
	r, crosses, ok := crossingBurn(b)
	if !ok {
		return Group{}, false, nil
	}
	below, _ := b.SLO.FreezeBelow.Rat().Float64()
	spend := crosses + minutesOf(a.For)
	failing, healthy := newInput(), newInput()
	if err := burnInput(failing, b.Signal, r, traffic, spend); err != nil {
		return Group{}, false, err
	}
	after := period + 10
	if err := burnInput(healthy, b.Signal, 0, traffic, after+1); err != nil {
		return Group{}, false, err
	}
	in := stepped(failing, healthy, spend, after+1)
	end := spend + after
	return Group{
		Name:        fmt.Sprintf("%s: the budget spent in the first %s of a %s period is back once it has left the period", a.Name, minutes(spend), b.SLO.Period.String()),
		Interval:    "1m",
		InputSeries: in.seriesList(),
		AlertRuleTests: []AlertTest{
			{EvalTime: minutes(spend), Alertname: a.Name, ExpAlerts: []ExpAlert{expected(a, "{{ $value | humanizePercentage }}", humanizePercentage(1-spent(b, r, spend)), nil)}},
			{EvalTime: minutes(end), Alertname: a.Name, ExpAlerts: []ExpAlert{}},
		},
		ExprTests: []ExprTest{
			// An hour of clean traffic later the spend still holds the
			// freeze: clean requests do not dilute errors already spent.
			{Expr: b.Remaining + " < bool " + num(below), EvalTime: minutes(spend + 60), ExpSamples: []Sample{{Labels: "{}", Value: 1}}},
			{Expr: "round(" + b.Remaining + " * 1e9) / 1e9", EvalTime: minutes(end), ExpSamples: []Sample{{Labels: "{}", Value: 1}}},
		},
	}, true, nil
}

// budgetRecordings checks the period's error ratio, the budget spent and
// the budget left after a steady error ratio r from the first sample.
func budgetRecordings(b *model.Budget, r float64, evalAt int) []ExprTest {
	var out []ExprTest
	for _, p := range []struct {
		record string
		value  float64
	}{{b.Ratio, r}, {b.BurnRate, spent(b, r, evalAt)}, {b.Remaining, 1 - spent(b, r, evalAt)}} {
		expr, exp := roundExpr(p.record, []sample{{nil, p.value}})
		out = append(out, ExprTest{Expr: expr, EvalTime: minutes(evalAt), ExpSamples: exp})
	}
	return out
}

// pct prints a share as a percentage for test names.
func pct(share float64) string { return num(math.Round(share*1e6)/1e4) + "%" }
