package dashboard

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
	"github.com/redline-sre/redline/rulegen/spec"
)

// panelKind is how a panel draws one kind of signal. Each kind is one file
// (kind_<name>.go), beside the spec's, the model's and the test writer's
// file of the same name.
type panelKind interface {
	// targets are the panel's queries, computed from the raw series.
	targets(q panelQuery) ([]grafana.Target, error)
	// good says what good looks like, for the panel's description; thr
	// is the panel's threshold, nil when it has none.
	good(sig *model.Signal, thr *spec.Quantity) string
}

// panelKinds is every kind a panel draws, by name.
var panelKinds = map[string]panelKind{
	spec.KindRatio:    ratioPanel{},
	spec.KindLatency:  latencyPanel{},
	spec.KindGauge:    gaugePanel{},
	spec.KindRate:     ratePanel{},
	spec.KindBaseline: baselinePanel{},
}

// panelQuery is how one panel reads a signal's raw series: the labels it
// keeps, the matchers it adds (the track variable of a panel split by
// track) and the legend of its line.
type panelQuery struct {
	sig    *model.Signal
	by     []string
	extra  []*labels.Matcher
	legend string
}

// sel prints the selector of a series of the signal (suffix: _bucket, _sum,
// _count) with the panel's matchers.
func (q panelQuery) sel(vs *parser.VectorSelector, suffix string) string {
	if vs == nil {
		return ""
	}
	if suffix == "" && len(q.extra) == 0 {
		return vs.String()
	}
	return model.Selector(vs, vs.Name+suffix, q.extra...)
}

// rate is a rate over Grafana's $__rate_interval, so the panel follows the
// zoom.
func (q panelQuery) rate(s string) string { return fmt.Sprintf("rate(%s[%s])", s, rateInterval) }

// scale converts a per-second value into the signal's unit.
func (q panelQuery) scale(e string) string {
	if q.sig.Scale != 1 {
		return fmt.Sprintf("%s * %d", e, q.sig.Scale)
	}
	return e
}

// line is a panel of one query.
func (q panelQuery) line(expr string) []grafana.Target {
	return []grafana.Target{{Expr: expr, Legend: q.legend}}
}

// goodWithin says "Good: at most 1% (red beyond it)." for a threshold.
func goodWithin(sig *model.Signal, thr *spec.Quantity) string {
	if thr == nil {
		return ""
	}
	return fmt.Sprintf("Good: %s %s (red beyond it).", opWords[sig.Op], sig.ThresholdText(*thr))
}
