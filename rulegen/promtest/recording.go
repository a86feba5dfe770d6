package promtest

import (
	"fmt"
	"math"
	"sort"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

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

// budgetOf is the budget of an SLO.
func budgetOf(m *model.Model, o *spec.SLO) *model.Budget {
	for _, b := range m.Budgets {
		if b.SLO == o {
			return b
		}
	}
	return nil
}

func recordingTests(m *model.Model, sig *model.Signal) (Group, error) {
	values, err := recordedValues(sig)
	if err != nil {
		return Group{}, err
	}
	in := newInput()
	var thr spec.Quantity
	if sig.Threshold != nil {
		thr = *sig.Threshold
	}
	kind := synthKinds[sig.Kind]
	evalAt, err := kind.recordingInput(in, sig, thr)
	if err != nil {
		return Group{}, err
	}
	// SLO error ratios over every window follow the same steady input.
	for _, o := range m.SLOs {
		if o.Signal != sig.Name {
			continue
		}
		ratio := kind.errorRatio(sig, in)
		for _, win := range o.Windows {
			for _, d := range []spec.Duration{win.Short, win.Long} {
				values[model.SLOWindowRecord(o, d.String())] = []sample{{nil, ratio}}
			}
		}
		b := budgetOf(m, o)
		values[model.SLOWindowRecord(o, o.Period.String())] = []sample{{nil, ratio}}
		values[model.BudgetBurnRateRecord(o)] = []sample{{nil, spent(b, ratio, evalAt)}}
		values[model.BudgetRemainingRecord(o)] = []sample{{nil, 1 - spent(b, ratio, evalAt)}}
		values[model.BudgetSampleTimeRecord(sig)] = []sample{{nil, float64(evalAt * 60)}}
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

// lazyErrorTests checks a ratio's recordings, SLO ratios and budgets with
// traffic but no error series at all (client libraries create an error
// code's series on its first occurrence): every one reads no errors, none
// is missing. ok is false for kinds without error series.
func lazyErrorTests(m *model.Model, sig *model.Signal) (g Group, ok bool, err error) {
	if sig.Errors == nil {
		return Group{}, false, nil
	}
	in := newInput()
	in.lazy = true
	traffic := trafficPerMin(sig)
	evalAt := minutesOf(sig.Window) + 5
	if err := ratioInput(in, sig, 0, traffic, evalAt+1, nil); err != nil {
		return Group{}, false, err
	}
	values := synthKinds[sig.Kind].recorded(sig, spec.Quantity{}, 0)
	for _, o := range m.SLOs {
		if o.Signal != sig.Name {
			continue
		}
		for _, win := range o.Windows {
			for _, d := range []spec.Duration{win.Short, win.Long} {
				values[model.SLOWindowRecord(o, d.String())] = []sample{{nil, 0}}
			}
		}
		values[model.SLOWindowRecord(o, o.Period.String())] = []sample{{nil, 0}}
		values[model.BudgetBurnRateRecord(o)] = []sample{{nil, 0}}
		values[model.BudgetRemainingRecord(o)] = []sample{{nil, 1}}
	}
	g = Group{Name: "recording rules of " + sig.Name + " without any error series", Interval: "1m", InputSeries: in.seriesList()}
	for _, r := range m.Recordings {
		if samples, ok := values[r.Record]; ok {
			expr, exp := roundExpr(r.Record, samples)
			g.ExprTests = append(g.ExprTests, ExprTest{Expr: expr, EvalTime: minutes(evalAt), ExpSamples: exp})
		}
	}
	return g, true, nil
}
