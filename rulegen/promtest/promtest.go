// Package promtest writes promtool unit tests for generated rules: every
// alert fires just beyond its threshold once `for` has passed and stays
// silent just within it and without traffic; every recording rule is
// checked with promql_expr_test. Inputs are synthesized from the spec's
// selectors, so the tests exercise the real expressions end to end.
package promtest

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// File is a promtool test file.
type File struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval string   `yaml:"evaluation_interval"`
	// GroupEvalOrder fixes the order promtool evaluates the rule groups in
	// at each step; without it the order is random (a map's), and an
	// alert would see this step's recordings in one run and the last
	// step's in another.
	GroupEvalOrder []string `yaml:"group_eval_order,omitempty"`
	Tests          []Group  `yaml:"tests"`
}

// Group is one promtool test group: input series and assertions.
type Group struct {
	Name           string      `yaml:"name"`
	Interval       string      `yaml:"interval"`
	InputSeries    []Series    `yaml:"input_series"`
	AlertRuleTests []AlertTest `yaml:"alert_rule_test,omitempty"`
	ExprTests      []ExprTest  `yaml:"promql_expr_test,omitempty"`
}

// Series is one input series in promtool's expanding notation.
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTest asserts the firing alerts of one name at one time.
type AlertTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []ExpAlert `yaml:"exp_alerts"`
}

// ExpAlert is one expected firing alert.
type ExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// ExprTest asserts an expression's samples at one time.
type ExprTest struct {
	Expr       string   `yaml:"expr"`
	EvalTime   string   `yaml:"eval_time"`
	ExpSamples []Sample `yaml:"exp_samples"`
}

// Sample is one expected sample.
type Sample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// Generate builds the tests for a model whose rules are in rulesFile
// (relative to the test file).
func Generate(m *model.Model, rulesFile string) (*File, error) {
	return generate(m, rulesFile, true)
}

// generate builds the tests; merge runs groups that cannot see each other's
// series together (unmerged, each scenario is a group of its own: the tests
// compare both to show that merging loses no assertion).
func generate(m *model.Model, rulesFile string, merge bool) (*File, error) {
	f := &File{RuleFiles: []string{rulesFile}, EvaluationInterval: "1m", GroupEvalOrder: m.Groups()}
	done := map[*spec.SLO]bool{}
	var burns []slotted
	for _, a := range m.Alerts {
		switch {
		case a.Burn != nil && done[a.Burn.SLO]:
			continue
		case a.Burn != nil:
			done[a.Burn.SLO] = true
			groups, err := burnTests(a.Burn.Siblings)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			burns = append(burns, groups...)
		case a.Absent != nil:
			groups, err := absentTests(a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		case a.Budget != nil:
			groups, err := budgetTests(a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		case a.Canary != nil:
			groups, err := canaryTests(a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		default:
			groups, err := triggerTests(m, a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		}
	}
	if merge {
		f.Tests = append(f.Tests, mergeSlots(burns)...)
	} else {
		for _, b := range burns {
			g := b.Group
			g.InputSeries = b.in.seriesList()
			f.Tests = append(f.Tests, g)
		}
	}
	for _, sig := range m.Signals {
		g, err := recordingTests(m, sig)
		if err != nil {
			return nil, fmt.Errorf("tests for the recording rules of %s: %w", sig.Name, err)
		}
		f.Tests = append(f.Tests, g)
	}
	if !merge {
		return f, nil
	}
	var err error
	if f.Tests, err = mergeLong(m, f.Tests); err != nil {
		return nil, err
	}
	return f, nil
}

func minutes(n int) string {
	if n%60 == 0 && n > 0 {
		return strconv.Itoa(n/60) + "h"
	}
	return strconv.Itoa(n) + "m"
}

func (in *input) seriesList() []Series {
	keys := make([]string, 0, len(in.series))
	for k := range in.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Series, len(keys))
	for i, k := range keys {
		out[i] = Series{Series: k, Values: in.series[k]}
	}
	return out
}

func newInput() *input { return &input{series: map[string]string{}} }

// expected is the alert as promtool reports it: its labels plus extra
// ones, and its annotations with the value template rendered as value.
func expected(a *model.Alert, valueTemplate, value string, extra labelSet) ExpAlert {
	l := map[string]string{}
	for k, v := range a.Labels {
		l[k] = v
	}
	for k, v := range extra {
		l[k] = v
	}
	ann := map[string]string{}
	for k, v := range a.Annotations {
		ann[k] = expand(v, valueTemplate, value, l)
	}
	return ExpAlert{ExpLabels: l, ExpAnnotations: ann}
}

func triggerTests(m *model.Model, a *model.Alert) ([]Group, error) {
	forMin := minutesOf(a.For)
	warm := 0
	hasBaseline := false
	for _, c := range a.Conditions {
		warm = max(warm, minutesOf(c.Signal.Window)+2)
		hasBaseline = hasBaseline || c.Signal.Kind == spec.KindBaseline
	}
	evalAt := warm + forMin + 2
	// A baseline condition needs its own history; every condition of the
	// trigger is then evaluated at the baseline's time.
	for _, c := range a.Conditions {
		if c.Signal.Kind == spec.KindBaseline {
			p, err := planBaseline(c.Signal, forMin, evalAt, firing)
			if err != nil {
				return nil, err
			}
			evalAt = max(evalAt, p.evalAt)
		}
	}
	length := evalAt + 1

	build := func(states []state) (*input, error) {
		in := newInput()
		var first *input
		for i, c := range a.Conditions {
			part := newInput()
			part.series = in.series
			var err error
			if c.Signal.Kind == spec.KindBaseline {
				var p baselinePlan
				if p, err = planBaseline(c.Signal, forMin, evalAt, states[i]); err == nil {
					err = baselineInput(part, c.Signal, p)
				}
			} else {
				err = signalInput(part, c.Signal, c.Threshold, states[i], length)
			}
			if err != nil {
				return nil, err
			}
			if i == 0 {
				first = part
			}
		}
		in.value, in.labels = first.value, first.labels
		return in, nil
	}
	all := func(s state) []state {
		st := make([]state, len(a.Conditions))
		for i := range st {
			st[i] = s
		}
		return st
	}
	silent := func(name string, in *input) Group {
		return Group{
			Name: a.Name + ": " + name, Interval: "1m", InputSeries: in.seriesList(),
			AlertRuleTests: []AlertTest{{EvalTime: minutes(evalAt), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
		}
	}

	var groups []Group
	in, err := build(all(firing))
	if err != nil {
		return nil, err
	}
	first := a.Conditions[0].Signal
	fire := Group{Name: fmt.Sprintf("%s: fires just above the threshold after %s", a.Name, a.For.String()), Interval: "1m", InputSeries: in.seriesList()}
	if forMin >= 2 && !hasBaseline {
		// Before `for` has passed the alert is at most pending (gauges are
		// beyond the threshold from the first sample).
		fire.AlertRuleTests = append(fire.AlertRuleTests, AlertTest{EvalTime: minutes(forMin - 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}})
	}
	fire.AlertRuleTests = append(fire.AlertRuleTests, AlertTest{
		EvalTime: minutes(evalAt), Alertname: a.Name,
		ExpAlerts: []ExpAlert{expected(a, first.ValueTemplate(), formatValue(first, in.value), in.labels)},
	})
	groups = append(groups, fire)

	for i, c := range a.Conditions {
		st := all(firing)
		st[i] = healthy
		in, err := build(st)
		if err != nil {
			return nil, err
		}
		name := "silent just below the threshold"
		if len(a.Conditions) > 1 {
			name = "silent with " + c.Signal.Name + " just below its threshold"
		}
		groups = append(groups, silent(name, in))
	}
	if in, err = build(all(idle)); err != nil {
		return nil, err
	}
	groups = append(groups, silent("silent with no traffic", in))

	guarded := all(firing)
	anyGuard := false
	for i, c := range a.Conditions {
		if c.Signal.MinRate != nil && c.Signal.MinRate.Rat().Sign() > 0 {
			guarded[i], anyGuard = trickle, true
		}
	}
	if anyGuard {
		if in, err = build(guarded); err != nil {
			return nil, err
		}
		groups = append(groups, silent("silent when traffic is below min_rate", in))
	}

	for i, c := range a.Conditions {
		if !c.FirstIncrement {
			continue
		}
		gs, err := firstIncrementTests(a, c, i, all(firing), build, silent)
		if err != nil {
			return nil, err
		}
		groups = append(groups, gs...)
	}

	unguarded := all(firing)
	anyGuard = false
	for i, c := range a.Conditions {
		if c.Signal.Guard != nil {
			unguarded[i], anyGuard = unmet, true
		}
	}
	if anyGuard {
		// Alerts on what the guard reads fire in the same input, once
		// their own `for` has passed: a silenced trigger is never silent.
		ws := witnesses(m, a)
		for _, w := range ws {
			evalAt = max(evalAt, warm+minutesOf(w.alert.For)+2)
		}
		length = evalAt + 1
		if in, err = build(unguarded); err != nil {
			return nil, err
		}
		g := silent("silent while the guard does not hold", in)
		for _, w := range ws {
			g.Name += "; " + w.alert.Name + " fires"
			g.AlertRuleTests = append(g.AlertRuleTests, AlertTest{
				EvalTime: minutes(evalAt), Alertname: w.alert.Name,
				ExpAlerts: []ExpAlert{expected(w.alert, w.alert.Conditions[0].Signal.ValueTemplate(), formatValue(w.alert.Conditions[0].Signal, w.value), nil)},
			})
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// firstIncrementTests checks a counter whose every increase is a violation:
// a series that appears already at 1 (the application creates it on the
// first event) fires, although rate() never sees it grow; one that has held
// a value above 0 for longer than the window does not. A series at 0 is the
// "just below the threshold" test.
func firstIncrementTests(a *model.Alert, c model.Condition, i int, states []state,
	build func([]state) (*input, error), silent func(string, *input) Group) ([]Group, error) {
	var groups []Group
	forMin := minutesOf(a.For)
	// The new series counts for one window; `for` must pass within it.
	if forMin+2 <= minutesOf(c.Signal.Window) {
		states[i] = appears
		in, err := build(states)
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
	in, err := build(states)
	if err != nil {
		return nil, err
	}
	groups = append(groups, silent("silent when "+c.Signal.Name+" holds a value above 0 for longer than "+c.Signal.Window.String(), in))
	if len(a.Conditions) == 1 && forMin+2 <= minutesOf(c.Signal.Window) {
		// Only a lone condition: the returning series outlasts the
		// others' input.
		states[i] = returns
		if in, err = build(states); err != nil {
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
	if sig.Kind == spec.KindLatency {
		t, _ := sig.Threshold.Rat().Float64()
		return histogramInput(in, sig, t, 1-ratio, traffic, length, true)
	}
	return ratioInput(in, sig, ratio, traffic, length, nil)
}

// burnTests checks every window of an SLO's burn-rate alert: for each
// window, an error ratio just above and just below its threshold, evaluated
// once that window's long range is filled with data and its `for` has
// passed. The expected alerts are every window whose threshold the ratio
// exceeds. Long windows get long series (25h of samples for 24h/2h).
func burnTests(siblings []*model.Alert) ([]slotted, error) {
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
	var groups []slotted
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
			groups = append(groups, slotted{slot: fmt.Sprintf("window %d side %d", i, side), in: in, Group: Group{
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
	if g, ok, err := resetTest(siblings); err != nil {
		return nil, err
	} else if ok {
		groups = append(groups, g)
	}
	in := newInput()
	if err := burnInput(in, sig, -1, 0, shortest+1); err != nil {
		return nil, err
	}
	groups = append(groups, slotted{slot: "idle", in: in, Group: Group{
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
func burstTest(siblings []*model.Alert, thresholds []float64) (slotted, bool, error) {
	a := siblings[0]
	sig := a.Burn.Signal
	w := a.Burn.Window
	long, short := minutesOf(w.Long), minutesOf(w.Short)
	r := thresholds[0] * 1.1
	before := long
	burst := 5 + short + minutesOf(a.For) + 2
	evalAt := before + burst
	if r >= 1 || float64(burst)*1.1 >= 0.8*float64(long) {
		return slotted{}, false, nil
	}
	for i, b := range siblings {
		l := float64(min(minutesOf(b.Burn.Window.Long), evalAt))
		if minutesOf(b.For) <= burst && r*float64(burst)/l >= 0.8*thresholds[i] {
			return slotted{}, false, nil
		}
	}
	healthy, failing := newInput(), newInput()
	traffic := burnTraffic(a.Burn)
	if err := burnInput(healthy, sig, 0, traffic, before); err != nil {
		return slotted{}, false, err
	}
	if err := burnInput(failing, sig, r, traffic, burst+1); err != nil {
		return slotted{}, false, err
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
	return slotted{slot: "burst", in: in, Group: g}, true, nil
}

// lowTrafficTest checks the SLO's min_rate: at half of it, every request
// fails, yet no window fires — evaluated when each window would have fired
// with enough traffic. ok is false when the SLO has no min_rate.
func lowTrafficTest(siblings []*model.Alert) (slotted, bool, error) {
	a := siblings[0]
	if a.Burn.MinRate == nil {
		return slotted{}, false, nil
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
		return slotted{}, false, err
	}
	return slotted{slot: "low traffic", in: in, Group: Group{
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

// slotted is a burn-rate test group with the scenario it plays.
type slotted struct {
	Group
	slot string
	in   *input
}

// mergeSlots runs the same scenario of different SLOs in one promtool group
// when their input series are disjoint. promtool evaluates every rule at
// every step of every group, and long windows need a day of steps, so this
// keeps the suite fast as SLOs are added.
func mergeSlots(burns []slotted) []Group {
	var merged []slotted
	for _, b := range burns {
		joined := false
		for i := range merged {
			m := &merged[i]
			if m.slot != b.slot || overlaps(m.in, b.in) {
				continue
			}
			m.absorb(b.Group)
			for k, v := range b.in.series {
				m.in.series[k] = v
			}
			joined = true
			break
		}
		if !joined {
			merged = append(merged, b)
		}
	}
	out := make([]Group, len(merged))
	for i, m := range merged {
		out[i] = m.Group
		out[i].InputSeries = m.in.seriesList()
	}
	return out
}

// absorb adds another group's name and every one of its assertions to g;
// the caller joins the input series. Both merges go through here, so an
// assertion kind added to Group is carried by both or by neither.
func (g *Group) absorb(o Group) {
	g.Name += "; " + o.Name
	g.AlertRuleTests = append(g.AlertRuleTests, o.AlertRuleTests...)
	g.ExprTests = append(g.ExprTests, o.ExprTests...)
}

func overlaps(a, b *input) bool {
	for k := range b.series {
		if _, ok := a.series[k]; ok {
			return true
		}
	}
	return false
}

// roundExpr wraps a rule in a rounding to 6 significant digits so that the
// assertion does not depend on the last bits of float arithmetic.
func roundExpr(record string, samples []sample) (string, []Sample) {
	smallest := math.Inf(1)
	for _, s := range samples {
		if s.value != 0 {
			smallest = math.Min(smallest, math.Abs(s.value))
		}
	}
	k := 0
	if !math.IsInf(smallest, 1) {
		k = min(max(5-int(math.Floor(math.Log10(smallest))), 0), 20)
	}
	pow := math.Pow10(k)
	p := num(pow)
	out := make([]Sample, len(samples))
	for i, s := range samples {
		out[i] = Sample{Labels: s.labels.String(), Value: math.Round(s.value*pow) / pow}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Labels < out[j].Labels })
	return fmt.Sprintf("round(%s * %s) / %s", record, p, p), out
}

func recordingTests(m *model.Model, sig *model.Signal) (Group, error) {
	values, err := recordedValues(sig)
	if err != nil {
		return Group{}, err
	}
	w := minutesOf(sig.Window)
	evalAt := w + 5
	in := newInput()
	var thr spec.Quantity
	if sig.Threshold != nil {
		thr = *sig.Threshold
	}
	switch sig.Kind {
	case spec.KindBaseline:
		evalAt = minutesOf(sig.BaselineWindow) + minutesOf(sig.BaselineOffset) + 5
		l, err := seriesFor(sig.Counter, sig.Counter.Name, nil)
		if err != nil {
			return Group{}, err
		}
		if err := in.add(l, counter(10, evalAt+1)); err != nil {
			return Group{}, err
		}
	default:
		if err := signalInput(in, sig, thr, firing, evalAt+1); err != nil {
			return Group{}, err
		}
	}
	// SLO error ratios over every window follow the same steady input.
	for _, o := range m.Spec.SLOs {
		if o.Signal != sig.Name {
			continue
		}
		ratio := in.value
		if sig.Kind == spec.KindLatency {
			q, _ := sig.Quantile.Rat().Float64()
			f, _ := fractionFast(q, 0, firing)
			ratio = 1 - f
		}
		for _, win := range o.Windows {
			for _, d := range []spec.Duration{win.Short, win.Long} {
				values[model.SLOWindowRecord(&o, d.String())] = []sample{{nil, ratio}}
			}
		}
		allowed, _ := new(big.Rat).Sub(big.NewRat(1, 1), o.Objective.Rat()).Float64()
		values[model.SLOWindowRecord(&o, o.Period.String())] = []sample{{nil, ratio}}
		values[model.BudgetBurnRateRecord(&o)] = []sample{{nil, ratio / allowed}}
		values[model.BudgetRemainingRecord(&o)] = []sample{{nil, 1 - ratio/allowed}}
	}
	g := Group{Name: "recording rules of " + sig.Name, Interval: "1m", InputSeries: in.seriesList()}
	for _, r := range m.Recordings {
		samples, ok := values[r.Record]
		if !ok {
			continue
		}
		expr, exp := roundExpr(r.Record, samples)
		g.ExprTests = append(g.ExprTests, ExprTest{Expr: expr, EvalTime: minutes(evalAt), ExpSamples: exp})
		delete(values, r.Record)
	}
	if len(values) > 0 {
		return Group{}, fmt.Errorf("predicted values for unknown recording rules %v", values)
	}
	return g, nil
}

// canaryTests checks a canary alert: it fires when the canary is worse than
// both the threshold and factor × the baseline track, and stays silent when
// only one of the two holds or when either track has no traffic.
func canaryTests(a *model.Alert) ([]Group, error) {
	c := a.Canary
	sig := c.Signal
	t, _ := sig.Threshold.Rat().Float64()
	factor, _ := c.Spec.Factor.Rat().Float64()
	forMin := minutesOf(a.For)
	evalAt := minutesOf(sig.Window) + 2 + forMin + 2
	traffic := trafficPerMin(sig)
	canary := map[string]string{c.Spec.Label: c.Spec.Canary}
	base := map[string]string{c.Spec.Label: c.Spec.Baseline}
	limit := func(b float64) float64 { return math.Max(t, factor*b) }
	capRatio := func(v float64) float64 {
		if sig.Kind == spec.KindRatio && v >= 1 {
			return (limit(0) + 1) / 2
		}
		return v
	}
	put := func(in *input, value, traffic float64, extra map[string]string) error {
		if sig.Kind == spec.KindLatency {
			return uniformHistogram(in, sig, value, traffic, evalAt+1, extra)
		}
		return ratioInput(in, sig, value, traffic, evalAt+1, extra)
	}
	type scenario struct {
		name                 string
		canaryValue, baseVal float64
		canaryTraffic        float64
		baseTraffic          float64
		fires                bool
	}
	scenarios := []scenario{
		{"fires when the canary is worse than the threshold and " + c.Spec.Factor.String() + "× the baseline", capRatio(1.1 * limit(t/2)), t / 2, traffic, traffic, true},
		{"silent when the canary is below the threshold", 0.9 * t, t / (4 * factor), traffic, traffic, false},
		{"silent when the canary is within " + c.Spec.Factor.String() + "× the baseline", capRatio(0.9 * limit(t)), t, traffic, traffic, false},
		{"silent when the baseline track has no traffic", capRatio(1.1 * limit(t/2)), t / 2, traffic, 0, false},
		{"silent with no traffic", capRatio(1.1 * limit(t/2)), t / 2, 0, 0, false},
	}
	var groups []Group
	for _, sc := range scenarios {
		in := newInput()
		if err := put(in, sc.canaryValue, sc.canaryTraffic, canary); err != nil {
			return nil, err
		}
		if err := put(in, sc.baseVal, sc.baseTraffic, base); err != nil {
			return nil, err
		}
		exp := []ExpAlert{}
		if sc.fires {
			exp = append(exp, expected(a, sig.ValueTemplate(), formatValue(sig, sc.canaryValue), labelSet(canary)))
		}
		g := Group{
			Name: a.Name + ": " + sc.name, Interval: "1m", InputSeries: in.seriesList(),
			AlertRuleTests: []AlertTest{{EvalTime: minutes(evalAt), Alertname: a.Name, ExpAlerts: exp}},
		}
		if sc.fires {
			g.ExprTests = canaryRecordings(c, sc.canaryValue, sc.baseVal, traffic, evalAt)
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// canaryRecordings checks the per-track recording rules of a canary alert.
func canaryRecordings(c *model.CanaryCheck, canaryValue, baseValue, traffic float64, evalAt int) []ExprTest {
	sig := c.Signal
	label := c.Spec.Label
	tracks := []struct {
		name  string
		value float64
	}{{c.Spec.Canary, canaryValue}, {c.Spec.Baseline, baseValue}}
	values := map[string][]sample{}
	w := sig.Window.String()
	for _, tr := range tracks {
		l := labelSet{label: tr.name}
		values[c.Traffic] = append(values[c.Traffic], sample{l, traffic / 60})
		values[c.Value] = append(values[c.Value], sample{l, tr.value})
		switch sig.Kind {
		case spec.KindRatio:
			errs := label + ":" + sig.Name + "_errors:rate" + w
			values[errs] = append(values[errs], sample{l, tr.value * traffic / 60})
		case spec.KindLatency:
			q, _ := sig.Quantile.Rat().Float64()
			u := tr.value / (1 + q)
			buckets := label + ":" + sig.Name + "_bucket:rate" + w
			values[buckets] = append(values[buckets],
				sample{labelSet{label: tr.name, "le": leValue(u)}, 0},
				sample{labelSet{label: tr.name, "le": leValue(2 * u)}, traffic / 60},
				sample{labelSet{label: tr.name, "le": "+Inf"}, traffic / 60})
		}
	}
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []ExprTest
	for _, n := range names {
		expr, exp := roundExpr(n, values[n])
		out = append(out, ExprTest{Expr: expr, EvalTime: minutes(evalAt), ExpSamples: exp})
	}
	return out
}
