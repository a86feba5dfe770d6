package promtest

import (
	"fmt"
	"math"

	"github.com/prometheus/common/helpers/templates"

	"github.com/redline-sre/redline/rulegen/model"
)

// forecastValue is how a forecast alert's annotations show its value.
const forecastValue = "{{ $value | humanizeDuration }}"

// forecastTests proves a forecast alert on straight lines, where every
// method predicts exactly: a steady ramp that reaches the limit a little
// less than `within` after the evaluation fires (and shows the time left),
// one that reaches it a little more than `within` after is silent, and so
// are a flat line short of the limit and a ramp away from it. Only the first minutes of the window
// carry samples: the fitted line is the same over any part of a straight
// one, and a test as long as the window would multiply the file's run time.
func forecastTests(a *model.Alert) ([]Group, error) {
	f := a.Forecast
	forMin, within := minutesOf(a.For), minutesOf(f.Within)
	// The condition holds from the 6th minute on, so `for` has passed by
	// evalAt; the ramp then reaches the limit `ahead` minutes later.
	evalAt := forMin + 35
	ahead := within - forMin - 30
	if ahead <= 0 {
		return nil, fmt.Errorf("within %s leaves no time before the crossing once for %s has passed", f.Within.Text, a.For.Text)
	}
	length := evalAt + 1
	limit, _ := f.Limit.Rat().Float64()
	reach := evalAt + within + 30 // the silent ramp's crossing, past `within`
	slope := niceBelow(math.Max(math.Abs(limit), 1) / float64(2*reach))

	ramp := func(crossAt int) string {
		if !f.Rising {
			return fmt.Sprintf("%s-%sx%d", num(limit+slope*float64(crossAt)), num(slope), length)
		}
		return fmt.Sprintf("%s+%sx%d", num(limit-slope*float64(crossAt)), num(slope), length)
	}
	fireValues := ramp(evalAt + ahead)
	fire, err := forecastInput(f.Signal, fireValues, length, true)
	if err != nil {
		return nil, err
	}
	far, err := forecastInput(f.Signal, ramp(reach), length, true)
	if err != nil {
		return nil, err
	}
	// Flat where the slow ramp starts: as far from the limit, not moving.
	flatAt := limit - slope*float64(reach)
	if !f.Rising {
		flatAt = limit + slope*float64(reach)
	}
	flat, err := forecastInput(f.Signal, constant(flatAt, length), length, true)
	if err != nil {
		return nil, err
	}
	// From there away from the limit: a negative time to reach it, which
	// only the slope's direction keeps from firing.
	away := fmt.Sprintf("%s-%sx%d", num(flatAt), num(slope), length)
	if !f.Rising {
		away = fmt.Sprintf("%s+%sx%d", num(flatAt), num(slope), length)
	}
	receding, err := forecastInput(f.Signal, away, length, true)
	if err != nil {
		return nil, err
	}

	left := float64(ahead * 60)
	shown, _ := templates.HumanizeDuration(left)
	silent := func(name string, in *input) Group {
		return Group{
			Name: a.Name + ": " + name, Interval: "1m", InputSeries: in.seriesList(),
			AlertRuleTests: []AlertTest{{EvalTime: minutes(evalAt), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
		}
	}
	groups := []Group{
		{
			Name:     fmt.Sprintf("%s: fires on a steady ramp %s before it reaches the limit", a.Name, shown),
			Interval: "1m", InputSeries: fire.seriesList(),
			AlertRuleTests: []AlertTest{{
				EvalTime: minutes(evalAt), Alertname: a.Name,
				ExpAlerts: []ExpAlert{expected(a, forecastValue, shown, fire.labels)},
			}},
			ExprTests: []ExprTest{forPin(a, evalAt)},
		},
		silent(fmt.Sprintf("silent on a steady ramp that reaches the limit %s after the evaluation, beyond %s", minutes(within+30), f.Within.Text), far),
		silent("silent on a flat line short of the limit", flat),
		silent("silent on a steady ramp away from the limit", receding),
		silent("silent with no traffic", newInput()),
	}
	if f.Signal.Guard != nil {
		// The firing ramp, its guard failing throughout.
		unguarded, err := forecastInput(f.Signal, fireValues, length, false)
		if err != nil {
			return nil, err
		}
		groups = append(groups, silent("silent while the guard does not hold", unguarded))
	}
	return groups, nil
}

// forecastInput writes the signal's metric with the given values, and its
// guard, when it has one, holding (met) or failing.
func forecastInput(sig *model.Signal, values string, length int, met bool) (*input, error) {
	in := newInput()
	by := labelSet{}
	for _, l := range sig.By {
		by[l] = "test"
	}
	if sig.Guard != nil {
		for _, l := range sig.Guard.On {
			if _, set := by[l]; !set {
				by[l] = "test"
			}
		}
	}
	l, err := seriesFor(sig.Metric, sig.Metric.Name, by)
	if err != nil {
		return nil, err
	}
	if err := in.add(l, values); err != nil {
		return nil, err
	}
	if sig.Guard != nil {
		if err := guardInput(in, sig, l, met, length); err != nil {
			return nil, err
		}
	}
	in.labels = keep(l, sig.By)
	return in, nil
}

// niceBelow is the largest 1, 2 or 5 times a power of ten not above x: a
// slope promtool's decimal series notation carries without rounding noise
// large enough to move a whole second of the forecast.
func niceBelow(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{5, 2, 1} {
		if m*p <= x {
			return m * p
		}
	}
	return p
}
