package promtest

import (
	"fmt"
	"math"
	"strings"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// burnTraffic is the request rate (per minute) of burn-rate tests: just
// above the SLO's min_rate, so that the firing tests also prove the
// low-traffic guard lets a real burn through.
func burnTraffic(b *model.Burn) float64 {
	if b.MinRate == nil {
		return trafficPerMin(b.Signal)
	}
	m, _ := b.MinRate.Float64()
	return m * 60 * 1.25
}

// burnInput writes the SLO signal's raw series at a constant error ratio
// and traffic (requests per minute); a negative ratio means no traffic.
func burnInput(in *input, sig *model.Signal, ratio, traffic float64, length int) error {
	if ratio < 0 {
		traffic, ratio = 0, 0
	}
	return synthKinds[sig.Kind].budgetInput(in, sig, ratio, traffic, length)
}

// burnTests checks every window of an SLO's burn-rate alert: for each
// window, an error ratio just above and just below its threshold, evaluated
// once that window's long range is filled with data and its `for` has
// passed. The expected alerts are every window whose threshold the ratio
// exceeds. Long windows get long series (25h of samples for 24h/2h).
func burnTests(siblings []*model.Alert) ([]burnGroup, error) {
	sig := siblings[0].Burn.Signal
	traffic := burnTraffic(siblings[0].Burn)
	name := siblings[0].Name
	maxFor := 0
	var thresholds []float64
	for _, a := range siblings {
		maxFor = max(maxFor, minutesOf(a.For))
		t, _ := a.Burn.Threshold.Float64()
		thresholds = append(thresholds, t)
	}
	var groups []burnGroup
	seen := map[float64]bool{}
	shortest := 0
	for i, a := range siblings {
		evalAt := max(minutesOf(a.Burn.Window.Long)+minutesOf(a.For), maxFor) + 10
		if shortest == 0 || evalAt < shortest {
			shortest = evalAt
		}
		for side, r := range []float64{thresholds[i] * 1.1, thresholds[i] * 0.9} {
			clear := r < 1 && !seen[r]
			for _, o := range thresholds {
				if math.Abs(r-o) < 0.03*o {
					clear = false
				}
			}
			if !clear {
				continue
			}
			seen[r] = true
			in := newInput()
			if err := burnInput(in, sig, r, traffic, evalAt+1); err != nil {
				return nil, err
			}
			exp := []ExpAlert{}
			var firing []string
			for j, b := range siblings {
				if r > thresholds[j] {
					exp = append(exp, expected(b, "{{ $value | humanizePercentage }}", humanizePercentage(r), nil))
					firing = append(firing, b.Burn.Window.Long.String()+"/"+b.Burn.Window.Short.String())
				}
			}
			what := "no window fires"
			if len(firing) > 0 {
				what = strings.Join(firing, ", ") + " fire"
			}
			var tests []AlertTest
			if minFor := minFor(siblings); len(exp) > 0 && minFor >= 2 {
				// The ratio is over the thresholds from the first minute, so
				// a minute before the shortest `for` nothing fires yet.
				tests = append(tests, AlertTest{EvalTime: minutes(minFor - 1), Alertname: name, ExpAlerts: []ExpAlert{}})
			}
			tests = append(tests, AlertTest{EvalTime: minutes(evalAt), Alertname: name, ExpAlerts: exp})
			groups = append(groups, burnGroup{scenario: fmt.Sprintf("window %d side %d", i, side), in: in, Group: Group{
				Name: fmt.Sprintf("%s: error ratio %s%% over %s — %s", name, num(math.Round(r*1e8)/1e6),
					a.Burn.Window.Long.String(), what),
				Interval:       "1m",
				AlertRuleTests: tests,
			}})
		}
	}
	if g, ok, err := burstTest(siblings, thresholds); err != nil {
		return nil, err
	} else if ok {
		groups = append(groups, g)
	}
	if g, ok, err := lowTrafficTest(siblings); err != nil {
		return nil, err
	} else if ok {
		groups = append(groups, g)
	}
	in := newInput()
	if err := burnInput(in, sig, -1, 0, shortest+1); err != nil {
		return nil, err
	}
	groups = append(groups, burnGroup{scenario: "idle", in: in, Group: Group{
		Name: name + ": silent with no traffic", Interval: "1m",
		AlertRuleTests: []AlertTest{{EvalTime: minutes(shortest), Alertname: name, ExpAlerts: []ExpAlert{}}},
	}})
	return groups, nil
}

// burstTest checks what the long window is for: after a long healthy
// stretch, errors start at 1.1× the first window's threshold. Once its short
// window has been over the threshold for longer than `for`, the alert still
// must not fire, because the long window is not (yet). Every other window is
// held back by its own long window or its `for`. ok is false when the
// window table leaves no clear margin for this.
func burstTest(siblings []*model.Alert, thresholds []float64) (burnGroup, bool, error) {
	a := siblings[0]
	sig := a.Burn.Signal
	w := a.Burn.Window
	long, short := minutesOf(w.Long), minutesOf(w.Short)
	r := thresholds[0] * 1.1
	before := long
	burst := 5 + short + minutesOf(a.For) + 2
	evalAt := before + burst
	if r >= 1 || float64(burst)*1.1 >= 0.8*float64(long) {
		return burnGroup{}, false, nil
	}
	for i, b := range siblings {
		l := float64(min(minutesOf(b.Burn.Window.Long), evalAt))
		if minutesOf(b.For) <= burst && r*float64(burst)/l >= 0.8*thresholds[i] {
			return burnGroup{}, false, nil
		}
	}
	healthy, failing := newInput(), newInput()
	traffic := burnTraffic(a.Burn)
	if err := burnInput(healthy, sig, 0, traffic, before); err != nil {
		return burnGroup{}, false, err
	}
	if err := burnInput(failing, sig, r, traffic, burst+1); err != nil {
		return burnGroup{}, false, err
	}
	in := stepped(healthy, failing, before, burst+1)
	thr := spec.FormatRat(a.Burn.Threshold)
	longRec := model.SLOWindowRecord(a.Burn.SLO, w.Long.String())
	shortRec := model.SLOWindowRecord(a.Burn.SLO, w.Short.String())
	g := Group{
		Name: fmt.Sprintf("%s: a %s burst over the %s threshold does not fire while the %s window is below it",
			a.Name, minutes(burst), w.Short.String(), w.Long.String()),
		Interval:       "1m",
		AlertRuleTests: []AlertTest{{EvalTime: minutes(evalAt), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
		// The short window is over the threshold and the long one is not:
		// the silence is the long window's doing.
		ExprTests: []ExprTest{
			{Expr: shortRec + " > bool " + thr, EvalTime: minutes(evalAt), ExpSamples: []Sample{{Labels: "{}", Value: 1}}},
			{Expr: longRec + " > bool " + thr, EvalTime: minutes(evalAt), ExpSamples: []Sample{{Labels: "{}", Value: 0}}},
		},
	}
	return burnGroup{scenario: "burst", in: in, Group: g}, true, nil
}

// lowTrafficTest checks the SLO's min_rate: at half of it, every request
// fails, yet no window fires — evaluated when each window would have fired
// with enough traffic. ok is false when the SLO has no min_rate.
func lowTrafficTest(siblings []*model.Alert) (burnGroup, bool, error) {
	a := siblings[0]
	if a.Burn.MinRate == nil {
		return burnGroup{}, false, nil
	}
	m, _ := a.Burn.MinRate.Float64()
	maxFor := 0
	for _, b := range siblings {
		maxFor = max(maxFor, minutesOf(b.For))
	}
	var tests []AlertTest
	end := 0
	for _, b := range siblings {
		evalAt := max(minutesOf(b.Burn.Window.Long)+minutesOf(b.For), maxFor) + 10
		end = max(end, evalAt)
		tests = append(tests, AlertTest{EvalTime: minutes(evalAt), Alertname: a.Name, ExpAlerts: []ExpAlert{}})
	}
	in := newInput()
	if err := burnInput(in, a.Burn.Signal, 1, m*60/2, end+1); err != nil {
		return burnGroup{}, false, err
	}
	return burnGroup{scenario: "low traffic", in: in, Group: Group{
		Name:           fmt.Sprintf("%s: silent below min_rate (%s requests/s) even at 100%% errors", a.Name, num(m/2)),
		Interval:       "1m",
		AlertRuleTests: tests,
	}}, true, nil
}

func minFor(alerts []*model.Alert) int {
	m := -1
	for _, a := range alerts {
		if f := minutesOf(a.For); m < 0 || f < m {
			m = f
		}
	}
	return m
}

// burnGroup is a burn-rate test group with the scenario it plays.
type burnGroup struct {
	Group
	scenario string
	in       *input
}
