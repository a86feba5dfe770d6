package promtest

import (
	"fmt"
	"math"
	"sort"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// resetTest checks the onset and the reset of an SLO's burn windows.
// Errors start with the first sample, above every window's threshold:
// each window fires exactly once its `for` has passed (silent a minute
// before). Errors stop once every window fires: one short window after
// that, the short window reads exactly 0 while its long window is still
// above the threshold — the short window is what resets the alert, within
// one window and not one recording window later. ok is false when no error
// ratio below 100% is above every threshold.
func resetTest(siblings []*model.Alert) (burnGroup, bool, error) {
	b := siblings[0].Burn
	sig := b.Signal
	maxThr, maxFor := 0.0, 0
	for _, a := range siblings {
		t, _ := a.Burn.Threshold.Float64()
		maxThr = math.Max(maxThr, t)
		maxFor = max(maxFor, minutesOf(a.For))
	}
	r := 2 * maxThr
	if r >= 1 {
		r = (1 + maxThr) / 2
	}
	if maxThr >= 0.95 {
		return burnGroup{}, false, nil
	}
	// Far above any min_rate: the mean rate over the long window passes the
	// guard from the first sample on, although rate() ramps up over its
	// first window.
	traffic := 600.0
	if b.MinRate != nil {
		m, _ := b.MinRate.Float64()
		traffic = math.Max(traffic, math.Ceil(m*600))
	}
	stop := maxFor + 5
	longestShort := 0
	for _, a := range siblings {
		longestShort = max(longestShort, minutesOf(a.Burn.Window.Short))
	}
	end := stop + longestShort
	failing, healthy := newInput(), newInput()
	if err := burnInput(failing, sig, r, traffic, stop); err != nil {
		return burnGroup{}, false, err
	}
	if err := burnInput(healthy, sig, 0, traffic, end-stop+1); err != nil {
		return burnGroup{}, false, err
	}
	in := stepped(failing, healthy, stop, end-stop+1)
	name := siblings[0].Name

	// Onset: the windows are over their thresholds from the first rate
	// (1m), so window j fires from 1m + its for.
	times := map[int]bool{}
	for _, a := range siblings {
		f := minutesOf(a.For)
		times[f], times[f+1] = true, true
	}
	var at []int
	for t := range times {
		at = append(at, t)
	}
	sort.Ints(at)
	var tests []AlertTest
	for _, t := range at {
		exp := []ExpAlert{}
		for _, a := range siblings {
			if minutesOf(a.For)+1 <= t {
				exp = append(exp, expected(a, "{{ $value | humanizePercentage }}", humanizePercentage(r), nil))
			}
		}
		tests = append(tests, AlertTest{EvalTime: minutes(t), Alertname: name, ExpAlerts: exp})
	}
	tests = append(tests, AlertTest{EvalTime: minutes(end), Alertname: name, ExpAlerts: []ExpAlert{}})

	// Reset: one short window after the errors stop.
	var exprs []ExprTest
	seen := map[string]bool{}
	for _, a := range siblings {
		w := a.Burn.Window
		if seen[w.Short.String()] {
			continue
		}
		seen[w.Short.String()] = true
		short, long := minutesOf(w.Short), minutesOf(w.Long)
		t := stop + short
		// Rounded at 1e-9: the counters' float sums leave 1e-16 behind.
		exprs = append(exprs, ExprTest{
			Expr:     "round(" + model.SLOWindowRecord(a.Burn.SLO, w.Short.String()) + " * 1e9) / 1e9",
			EvalTime: minutes(t), ExpSamples: []Sample{{Labels: "{}", Value: 0}},
		})
		// The long window still holds the errors of all but the last short
		// window (less a recording window of ramp, to be safe).
		span := min(long, t)
		share := float64(span-short-minutesOf(sig.Window)) / float64(span)
		thr, _ := a.Burn.Threshold.Float64()
		if r*share > 1.2*thr {
			exprs = append(exprs, ExprTest{
				Expr:     model.SLOWindowRecord(a.Burn.SLO, w.Long.String()) + " > bool " + spec.FormatRat(a.Burn.Threshold),
				EvalTime: minutes(t), ExpSamples: []Sample{{Labels: "{}", Value: 1}},
			})
		}
	}
	return burnGroup{scenario: "onset and reset", in: in, Group: Group{
		Name: fmt.Sprintf("%s: errors at %s from the start fire each window once its for has passed; stopped at %s, each short window reads 0 one window later",
			name, pct(r), minutes(stop)),
		Interval:       "1m",
		AlertRuleTests: tests,
		ExprTests:      exprs,
	}}, true, nil
}
