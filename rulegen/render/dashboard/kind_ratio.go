package dashboard

import (
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
	"github.com/redline-sre/redline/rulegen/spec"
)

// ratioPanel draws errors ÷ total.
type ratioPanel struct{}

func (ratioPanel) targets(q panelQuery) ([]grafana.Target, error) {
	return q.line(agg("sum", q.by, q.rate(q.sel(q.sig.Errors, ""))) + " / " + agg("sum", q.by, q.rate(q.sel(q.sig.Total, "")))), nil
}

func (ratioPanel) good(sig *model.Signal, thr *spec.Quantity) string { return goodWithin(sig, thr) }
