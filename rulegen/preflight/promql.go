package preflight

import (
	"context"
	"fmt"
	"math"

	"github.com/redline-sre/redline/rulegen/spec"
)

// promqlCheck evaluates an expression of the spec's preflight: section:
// every sample must satisfy op threshold. No data is UNKNOWN unless the
// check says no_data: go; NaN is UNKNOWN, since it compares false with
// everything and would read as healthy or failing by accident.
func promqlCheck(p *spec.PreflightCheck) *Check {
	c := &Check{Name: "preflight:" + p.Name, Required: p.IsRequired(), Threshold: p.Op + " " + p.Threshold.Text}
	thr, _ := p.Threshold.Rat().Float64()
	c.run = func(ctx context.Context, e *env) Outcome {
		v, err := e.vector(ctx, p.Expr)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		if len(v) == 0 {
			if p.NoData == spec.NoDataGo {
				return Outcome{Status: GO, Value: "no data", Detail: "no data is healthy for this check (no_data: go)"}
			}
			return Outcome{Status: Unknown, Value: "no data", Detail: "the expression returned no series (no_data: go would make that healthy)"}
		}
		var bad, nan []string
		for _, s := range v {
			f := float64(s.Value)
			switch {
			case math.IsNaN(f):
				nan = append(nan, seriesText(s.Metric))
			case !holds(f, p.Op, thr):
				bad = append(bad, seriesText(s.Metric)+" = "+formatValue(f))
			}
		}
		switch {
		case len(bad) > 0:
			return Outcome{Status: NoGo, Value: valuesText(v), Detail: "not " + p.Op + " " + p.Threshold.Text + ": " + listed(bad)}
		case len(nan) > 0:
			return Outcome{Status: Unknown, Value: valuesText(v), Detail: "NaN for " + listed(nan)}
		}
		return Outcome{Status: GO, Value: valuesText(v)}
	}
	return c
}

func holds(v float64, op string, thr float64) bool {
	switch op {
	case "<=":
		return v <= thr
	case "<":
		return v < thr
	case ">=":
		return v >= thr
	case ">":
		return v > thr
	}
	panic(fmt.Sprintf("preflight: unknown op %q", op))
}
