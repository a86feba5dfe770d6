package dashboard

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
	"github.com/redline-sre/redline/rulegen/spec"
)

// gaugePanel draws the function over the metric.
type gaugePanel struct{}

func (gaugePanel) targets(q panelQuery) ([]grafana.Target, error) {
	sig := q.sig
	s := q.sel(sig.Metric, "")
	var expr string
	switch sig.Function {
	case "max", "min", "avg", "sum":
		expr = agg(sig.Function, q.by, s)
	case "max_abs":
		expr = agg("max", q.by, "abs("+s+")")
	case "rate":
		expr = agg("sum", q.by, q.rate(s))
	case "deriv":
		// A derivative over a short window is noise; keep the
		// signal's own window.
		expr = agg("max", q.by, fmt.Sprintf("deriv(%s[%s])", s, sig.Window.String()))
	case "mean":
		expr = agg("sum", q.by, q.rate(q.sel(sig.Metric, "_sum"))) + " / " + agg("sum", q.by, q.rate(q.sel(sig.Metric, "_count")))
	default:
		return nil, fmt.Errorf("signal %s: unknown function %q", sig.Name, sig.Function)
	}
	return q.line(q.scale(expr)), nil
}

func (gaugePanel) good(sig *model.Signal, thr *spec.Quantity) string { return goodWithin(sig, thr) }
