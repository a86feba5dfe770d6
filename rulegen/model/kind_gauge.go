package model

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/spec"
)

// gaugeKind: a function over a selector.
type gaugeKind struct{}

func (gaugeKind) record(m *Model, sig *Signal) {
	w, by, metric := sig.Window.String(), sig.By, sig.Signal.Metric
	var expr, op string
	switch sig.Function {
	case "max", "min", "avg", "sum":
		expr, op = agg(sig.Function, by, guarded(metric, sig.Guard)), sig.Function
	case "max_abs":
		expr, op = agg("max", by, guarded("abs("+metric+")", sig.Guard)), "max_abs"
	case "rate":
		expr, op = agg("sum", by, guarded(fmt.Sprintf("rate(%s[%s])", metric, w), sig.Guard)), "rate"+w
	case "deriv":
		expr, op = agg("max", by, guarded(fmt.Sprintf("deriv(%s[%s])", metric, w), sig.Guard)), "deriv"+w
	case "mean":
		mv := sig.Metric
		expr = agg("sum", by, fmt.Sprintf("rate(%s[%s])", Selector(mv, mv.Name+"_sum"), w)) + " / " +
			agg("sum", by, fmt.Sprintf("rate(%s[%s])", Selector(mv, mv.Name+"_count"), w))
		op = "mean" + w
	}
	sig.Value = m.record(aggregationLevel(by)+":"+sig.Name+":"+op, expr)
	sig.Scale = perScale[sig.Per]
}

func (gaugeKind) condition(sig *Signal, thr spec.Quantity) string { return beyond(sig, thr) }

func (gaugeKind) describe(sig *Signal, thr spec.Quantity) string { return describeBeyond(sig, thr) }

func (gaugeKind) catchesFirstIncrement(*Signal, spec.Quantity) bool { return false }

// source: the metric, or a mean's _count.
func (gaugeKind) source(sig *Signal) string {
	if sig.Function == "mean" {
		return Selector(sig.Metric, sig.Metric.Name+"_count")
	}
	return sig.Signal.Metric
}

func (gaugeKind) recordTracks(*Model, *Signal, *spec.Canary) (string, string) {
	panic("model: a gauge signal has no canary comparison")
}

func (gaugeKind) errorRatio(*Signal, string) string {
	panic("model: a gauge signal has no error budget")
}

// data: a guard that keeps no series is no concern, 0 while the metric
// itself has series; a metric that has series only on an anomaly reads 0
// while its present selector has series.
func (k gaugeKind) data(sig *Signal) string {
	d := fmt.Sprintf("sum(%s)", sig.Value)
	if sig.Guard != nil {
		d += fmt.Sprintf(" or 0 * sum(%s)", k.source(sig))
	}
	return d + presentData(sig)
}
