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

// budgetTests checks an SLO's remaining budget and its release freeze. A
// steady error ratio r spends r ÷ budget of the budget whatever the
// period's length, from the first sample on: with 9% of the budget left
// the freeze fires exactly once `for` has passed, with 11% left it stays
// silent, and without traffic it has nothing to say. A period short
// enough to simulate also gets its spend back once the errors leave it.
func budgetTests(a *model.Alert) ([]Group, error) {
	b := a.Budget
	allowed, _ := b.Allowed.Float64()
	below, _ := b.SLO.FreezeBelow.Rat().Float64()
	forMin := minutesOf(a.For)
	// The rates exist from the first minute: the alert is pending from 1m
	// and fires at 1m + for.
	firesAt := forMin + 1
	evalAt := firesAt + 2
	traffic := freezeTraffic(b)
	put := func(ratio float64, traffic float64, length int) (*input, error) {
		in := newInput()
		return in, burnInput(in, b.Signal, ratio, traffic, length)
	}
	left := func(share float64) float64 { return allowed * (1 - share) }

	var groups []Group
	in, err := put(left(0.9*below), traffic, evalAt+1)
	if err != nil {
		return nil, err
	}
	remaining := 0.9 * below
	fire := Group{
		Name:        fmt.Sprintf("%s: fires once %s of the budget is left for %s", a.Name, pct(remaining), a.For.String()),
		Interval:    "1m",
		InputSeries: in.seriesList(),
		AlertRuleTests: []AlertTest{
			{EvalTime: minutes(firesAt - 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}},
			{EvalTime: minutes(firesAt), Alertname: a.Name, ExpAlerts: []ExpAlert{expected(a, "{{ $value | humanizePercentage }}", humanizePercentage(remaining), nil)}},
		},
		ExprTests: budgetRecordings(b, left(0.9*below), evalAt),
	}
	groups = append(groups, fire)

	if in, err = put(left(1.1*below), traffic, evalAt+1); err != nil {
		return nil, err
	}
	groups = append(groups, Group{
		Name:           fmt.Sprintf("%s: silent with %s of the budget left", a.Name, pct(1.1*below)),
		Interval:       "1m",
		InputSeries:    in.seriesList(),
		AlertRuleTests: []AlertTest{{EvalTime: minutes(evalAt), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
	})
	if in, err = put(-1, 0, evalAt+1); err != nil {
		return nil, err
	}
	groups = append(groups, Group{
		Name:           a.Name + ": silent with no traffic",
		Interval:       "1m",
		InputSeries:    in.seriesList(),
		AlertRuleTests: []AlertTest{{EvalTime: minutes(evalAt), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
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
// errors: the freeze fires, and once the errors have left the period the
// whole budget is back and the freeze resolves.
func recoveryTest(a *model.Alert, traffic float64) (Group, bool, error) {
	b := a.Budget
	period := minutesOf(b.SLO.Period)
	if period > shortPeriod {
		return Group{}, false, nil
	}
	allowed, _ := b.Allowed.Float64()
	below, _ := b.SLO.FreezeBelow.Rat().Float64()
	forMin := minutesOf(a.For)
	spend := forMin + 5
	r := allowed * (1 - below/2)
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
			{EvalTime: minutes(spend), Alertname: a.Name, ExpAlerts: []ExpAlert{expected(a, "{{ $value | humanizePercentage }}", humanizePercentage(below/2), nil)}},
			{EvalTime: minutes(end), Alertname: a.Name, ExpAlerts: []ExpAlert{}},
		},
		ExprTests: []ExprTest{{Expr: "round(" + b.Remaining + " * 1e9) / 1e9", EvalTime: minutes(end), ExpSamples: []Sample{{Labels: "{}", Value: 1}}}},
	}, true, nil
}

// budgetRecordings checks the period's error ratio, burn rate and
// remaining budget after a steady error ratio r.
func budgetRecordings(b *model.Budget, r float64, evalAt int) []ExprTest {
	allowed, _ := b.Allowed.Float64()
	var out []ExprTest
	for _, p := range []struct {
		record string
		value  float64
	}{{b.Ratio, r}, {b.BurnRate, r / allowed}, {b.Remaining, 1 - r/allowed}} {
		expr, exp := roundExpr(p.record, []sample{{nil, p.value}})
		out = append(out, ExprTest{Expr: expr, EvalTime: minutes(evalAt), ExpSamples: exp})
	}
	return out
}

// pct prints a share as a percentage for test names.
func pct(share float64) string { return num(math.Round(share*1e6)/1e4) + "%" }
