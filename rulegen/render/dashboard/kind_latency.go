package dashboard

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
	"github.com/redline-sre/redline/rulegen/spec"
)

// latencyPanel draws the quantile of the histogram.
type latencyPanel struct{}

func (latencyPanel) targets(q panelQuery) ([]grafana.Target, error) {
	return q.line(fmt.Sprintf("histogram_quantile(%s, %s)", q.sig.Quantile.String(),
		agg("sum", append(append([]string{}, q.by...), "le"), q.rate(q.sel(q.sig.Histogram, "_bucket"))))), nil
}

func (latencyPanel) good(sig *model.Signal, thr *spec.Quantity) string { return goodWithin(sig, thr) }
