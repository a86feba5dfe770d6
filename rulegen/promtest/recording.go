package promtest

import (
	"fmt"
	"math"
	"math/big"
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
		allowed, _ := new(big.Rat).Sub(big.NewRat(1, 1), o.Objective.Rat()).Float64()
		values[model.SLOWindowRecord(o, o.Period.String())] = []sample{{nil, ratio}}
		values[model.BudgetBurnRateRecord(o)] = []sample{{nil, ratio / allowed}}
		values[model.BudgetRemainingRecord(o)] = []sample{{nil, 1 - ratio/allowed}}
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
