package promtest

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/model"
)

func triggerTests(m *model.Model, a *model.Alert) ([]Group, error) {
	forMin := minutesOf(a.For)
	warm := 0
	for _, c := range a.Conditions {
		warm = max(warm, minutesOf(c.Signal.Window)+2)
	}
	evalAt := warm + forMin + 2
	// A condition that needs its own history (a baseline) moves the
	// evaluation of every condition of the trigger to its time.
	steady := true
	for _, c := range a.Conditions {
		at, st, err := synthKinds[c.Signal.Kind].triggerEval(c.Signal, forMin, evalAt)
		if err != nil {
			return nil, err
		}
		evalAt, steady = max(evalAt, at), steady && st
	}
	length := evalAt + 1

	p := &triggerPlan{alert: a, forMin: forMin, evalAt: evalAt, length: length}

	var groups []Group
	in, err := p.build(p.all(firing))
	if err != nil {
		return nil, err
	}
	first := a.Conditions[0].Signal
	fire := Group{Name: fmt.Sprintf("%s: fires just above the threshold after %s", a.Name, a.For.String()), Interval: "1m", InputSeries: in.seriesList()}
	if forMin >= 2 && steady {
		// Before `for` has passed the alert is at most pending (gauges are
		// beyond the threshold from the first sample).
		fire.AlertRuleTests = append(fire.AlertRuleTests, AlertTest{EvalTime: minutes(forMin - 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}})
	}
	fire.AlertRuleTests = append(fire.AlertRuleTests, AlertTest{
		EvalTime: minutes(evalAt), Alertname: a.Name,
		ExpAlerts: []ExpAlert{expected(a, first.ValueTemplate(), formatValue(first, in.value), in.labels)},
	})
	fire.ExprTests = append(fire.ExprTests, forPin(a, evalAt))
	groups = append(groups, fire)

	for i, c := range a.Conditions {
		st := p.all(firing)
		st[i] = healthy
		in, err := p.build(st)
		if err != nil {
			return nil, err
		}
		name := "silent just below the threshold"
		if len(a.Conditions) > 1 {
			name = "silent with " + c.Signal.Name + " just below its threshold"
		}
		groups = append(groups, p.silent(name, in))
	}
	if in, err = p.build(p.all(idle)); err != nil {
		return nil, err
	}
	groups = append(groups, p.silent("silent with no traffic", in))

	guarded := p.all(firing)
	anyGuard := false
	for i, c := range a.Conditions {
		if c.Signal.MinRate != nil && c.Signal.MinRate.Rat().Sign() > 0 {
			guarded[i], anyGuard = trickle, true
		}
	}
	if anyGuard {
		if in, err = p.build(guarded); err != nil {
			return nil, err
		}
		groups = append(groups, p.silent("silent when traffic is below min_rate", in))
	}

	for i, c := range a.Conditions {
		if !c.FirstIncrement {
			continue
		}
		gs, err := firstIncrementTests(p, c, i, p.all(firing))
		if err != nil {
			return nil, err
		}
		groups = append(groups, gs...)
	}

	unguarded := p.all(firing)
	anyGuard = false
	for i, c := range a.Conditions {
		if c.Signal.Guard != nil {
			unguarded[i], anyGuard = unmet, true
		}
	}
	if anyGuard {
		// Alerts on what the guard reads fire in the same input, once
		// their own `for` has passed: a silenced trigger is never silent.
		ws := guardAlerts(m, a)
		for _, w := range ws {
			p.evalAt = max(p.evalAt, warm+minutesOf(w.alert.For)+2)
		}
		p.length = p.evalAt + 1
		if in, err = p.build(unguarded); err != nil {
			return nil, err
		}
		g := p.silent("silent while the guard does not hold", in)
		for _, w := range ws {
			g.Name += "; " + w.alert.Name + " fires"
			g.AlertRuleTests = append(g.AlertRuleTests, AlertTest{
				EvalTime: minutes(p.evalAt), Alertname: w.alert.Name,
				ExpAlerts: []ExpAlert{expected(w.alert, w.alert.Conditions[0].Signal.ValueTemplate(), formatValue(w.alert.Conditions[0].Signal, w.value), nil)},
			})
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// triggerPlan is the shape of one trigger alert's tests: when they are
// evaluated and how long their input runs. The guard test moves both later,
// to let the alerts on what the guard reads fire.
type triggerPlan struct {
	alert  *model.Alert
	forMin int
	evalAt int // minutes
	length int // minutes of input
}

// build synthesizes the input that puts each condition of the alert into
// its state; the alert shows the first condition's value.
func (p *triggerPlan) build(states []state) (*input, error) {
	in := newInput()
	var first *input
	for i, c := range p.alert.Conditions {
		cond := newInput()
		cond.series = in.series
		err := synthKinds[c.Signal.Kind].triggerInput(cond, c.Signal, c.Threshold, states[i], p.forMin, p.evalAt, p.length)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = cond
		}
	}
	in.value, in.labels = first.value, first.labels
	return in, nil
}

// all puts every condition into the same state.
func (p *triggerPlan) all(s state) []state {
	st := make([]state, len(p.alert.Conditions))
	for i := range st {
		st[i] = s
	}
	return st
}

// silent is a group asserting that the alert does not fire on in.
func (p *triggerPlan) silent(name string, in *input) Group {
	return Group{
		Name: p.alert.Name + ": " + name, Interval: "1m", InputSeries: in.seriesList(),
		AlertRuleTests: []AlertTest{{EvalTime: minutes(p.evalAt), Alertname: p.alert.Name, ExpAlerts: []ExpAlert{}}},
	}
}

// firstIncrementTests checks a counter whose every increase is a violation:
// a series that appears already at 1 (the application creates it on the
// first event) fires, although rate() never sees it grow; one that has held
// a value above 0 for longer than the window does not. A series at 0 is the
// "just below the threshold" test.
func firstIncrementTests(p *triggerPlan, c model.Condition, i int, states []state) ([]Group, error) {
	a := p.alert
	var groups []Group
	forMin := minutesOf(a.For)
	// The new series counts for one window; `for` must pass within it.
	if forMin+2 <= minutesOf(c.Signal.Window) {
		states[i] = appears
		in, err := p.build(states)
		if err != nil {
			return nil, err
		}
		name := c.Signal.Name
		fire := Group{Name: fmt.Sprintf("%s: fires when %s first appears at 1 and stays there", a.Name, name), Interval: "1m", InputSeries: in.seriesList()}
		if forMin >= 1 {
			fire.AlertRuleTests = append(fire.AlertRuleTests, AlertTest{EvalTime: minutes(appearAt + forMin - 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}})
		}
		first := a.Conditions[0].Signal
		fire.AlertRuleTests = append(fire.AlertRuleTests, AlertTest{
			EvalTime: minutes(appearAt + forMin + 1), Alertname: a.Name,
			ExpAlerts: []ExpAlert{expected(a, first.ValueTemplate(), formatValue(first, in.value), in.labels)},
		})
		groups = append(groups, fire)
	}
	states[i] = flat
	in, err := p.build(states)
	if err != nil {
		return nil, err
	}
	groups = append(groups, p.silent("silent when "+c.Signal.Name+" holds a value above 0 for longer than "+c.Signal.Window.String(), in))
	if len(a.Conditions) == 1 && forMin+2 <= minutesOf(c.Signal.Window) {
		// Only a lone condition: the returning series outlasts the
		// others' input.
		states[i] = returns
		if in, err = p.build(states); err != nil {
			return nil, err
		}
		at := returnAt(c.Signal)
		groups = append(groups, Group{
			Name:     fmt.Sprintf("%s: silent when %s returns at the same value after %s unscraped", a.Name, c.Signal.Name, minutes(at-10)),
			Interval: "1m", InputSeries: in.seriesList(),
			AlertRuleTests: []AlertTest{{EvalTime: minutes(at + forMin + 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
		})
	}
	return groups, nil
}
