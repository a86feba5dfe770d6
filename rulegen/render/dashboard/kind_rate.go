package dashboard

import (
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
	"github.com/redline-sre/redline/rulegen/spec"
)

// ratePanel draws the counter's rate in the signal's unit.
type ratePanel struct{}

func (ratePanel) targets(q panelQuery) ([]grafana.Target, error) {
	return q.line(q.scale(agg("sum", q.by, q.rate(q.sel(q.sig.Counter, ""))))), nil
}

func (ratePanel) good(sig *model.Signal, thr *spec.Quantity) string { return goodWithin(sig, thr) }
