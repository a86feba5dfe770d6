package promtest

import (
	"math"
	"sort"

	"github.com/redline-sre/redline/rulegen/model"
)

// canaryTests checks a canary alert: it fires when the canary is worse than
// both the threshold and factor × the baseline track, and stays silent when
// only one of the two holds or when either track has no traffic.
func canaryTests(a *model.Alert) ([]Group, error) {
	c := a.Canary
	sig := c.Signal
	t, _ := sig.Threshold.Rat().Float64()
	factor, _ := c.Tracks.Factor.Rat().Float64()
	forMin := minutesOf(a.For)
	evalAt := minutesOf(sig.Window) + 2 + forMin + 2
	traffic := trafficPerMin(sig)
	canary := map[string]string{c.Tracks.Label: c.Tracks.Canary}
	base := map[string]string{c.Tracks.Label: c.Tracks.Baseline}
	limit := func(b float64) float64 { return math.Max(t, factor*b) }
	capRatio := func(v float64) float64 { return synthKinds[sig.Kind].trackValue(v, limit(0)) }
	put := func(in *input, value, traffic float64, extra map[string]string) error {
		return synthKinds[sig.Kind].trackInput(in, sig, value, traffic, evalAt+1, extra)
	}
	type scenario struct {
		name                 string
		canaryValue, baseVal float64
		canaryTraffic        float64
		baseTraffic          float64
		fires                bool
		// lazy leaves out error series with no errors (a stable track
		// that never failed has none).
		lazy bool
	}
	scenarios := []scenario{
		{"fires when the canary is worse than the threshold and " + c.Tracks.Factor.String() + "× the baseline", capRatio(1.1 * limit(t/2)), t / 2, traffic, traffic, true, false},
		{"silent when the canary is below the threshold", 0.9 * t, t / (4 * factor), traffic, traffic, false, false},
		{"silent when the canary is within " + c.Tracks.Factor.String() + "× the baseline", capRatio(0.9 * limit(t)), t, traffic, traffic, false, false},
		{"silent when the baseline track has no traffic", capRatio(1.1 * limit(t/2)), t / 2, traffic, 0, false, false},
		{"silent with no traffic", capRatio(1.1 * limit(t/2)), t / 2, 0, 0, false, false},
	}
	if sig.Errors != nil {
		scenarios = append(scenarios, scenario{"fires when the canary fails every request and the baseline track has no error series", 1, 0, traffic, traffic, true, true})
	}
	var groups []Group
	for _, sc := range scenarios {
		in := newInput()
		in.lazy = sc.lazy
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
			g.ExprTests = append(canaryRecordings(c, sc.canaryValue, sc.baseVal, traffic, evalAt), forPin(a, evalAt))
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// canaryRecordings checks the per-track recording rules of a canary alert.
func canaryRecordings(c *model.CanaryCheck, canaryValue, baseValue, traffic float64, evalAt int) []ExprTest {
	sig := c.Signal
	label := c.Tracks.Label
	tracks := []struct {
		name  string
		value float64
	}{{c.Tracks.Canary, canaryValue}, {c.Tracks.Baseline, baseValue}}
	values := map[string][]sample{}
	for _, tr := range tracks {
		l := labelSet{label: tr.name}
		values[c.Traffic] = append(values[c.Traffic], sample{l, traffic / 60})
		values[c.Value] = append(values[c.Value], sample{l, tr.value})
		for name, samples := range synthKinds[sig.Kind].trackRecorded(sig, label, tr.name, tr.value, traffic) {
			values[name] = append(values[name], samples...)
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
