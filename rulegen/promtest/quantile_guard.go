package promtest

import (
	"fmt"
	"slices"
	"strings"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// quantileGuard is a guard on a quantile of another histogram, per joined
// series: histogram_quantile(φ, sum by (…, le) (rate(h_bucket[w]))) OP c,
// such as "the exporter's own timer-lag P95 is at most 10ms". A constant
// series has no rate, so such a guard gets a histogram of its own instead:
// buckets at c, 2c and +Inf with the share within c that puts the quantile
// on the wanted side of c.
type quantileGuard struct {
	phi    float64
	bucket *parser.VectorSelector
	by     []string
	op     parser.ItemType
	bound  float64
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// quantileGuardOf recognises a quantile guard; ok is false for any other
// expression, which the constant-series evaluator then handles.
func quantileGuardOf(e parser.Expr) (g quantileGuard, ok bool) {
	b, ok := unparen(e).(*parser.BinaryExpr)
	if !ok || !b.Op.IsComparisonOperator() || b.ReturnBool {
		return g, false
	}
	bound, ok := unparen(b.RHS).(*parser.NumberLiteral)
	if !ok {
		return g, false
	}
	call, ok := unparen(b.LHS).(*parser.Call)
	if !ok || call.Func.Name != "histogram_quantile" || len(call.Args) != 2 {
		return g, false
	}
	phi, ok := unparen(call.Args[0]).(*parser.NumberLiteral)
	if !ok {
		return g, false
	}
	agg, ok := unparen(call.Args[1]).(*parser.AggregateExpr)
	if !ok || agg.Op != parser.SUM || agg.Without {
		return g, false
	}
	rate, ok := unparen(agg.Expr).(*parser.Call)
	if !ok || (rate.Func.Name != "rate" && rate.Func.Name != "increase") || len(rate.Args) != 1 {
		return g, false
	}
	ms, ok := rate.Args[0].(*parser.MatrixSelector)
	if !ok {
		return g, false
	}
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok || !strings.HasSuffix(vs.Name, "_bucket") {
		return g, false
	}
	return quantileGuard{phi: phi.Val, bucket: vs, by: agg.Grouping, op: b.Op, bound: bound.Val}, true
}

// guardTicksPerMin is the observation rate of a quantile guard's
// histogram: 10/s, above the min_rate of an alert on the same histogram.
const guardTicksPerMin = 600.0

// compare applies a comparison operator.
func compare(op parser.ItemType, a, b float64) bool {
	switch op {
	case parser.EQLC:
		return a == b
	case parser.NEQ:
		return a != b
	case parser.GTR:
		return a > b
	case parser.LSS:
		return a < b
	case parser.GTE:
		return a >= b
	case parser.LTE:
		return a <= b
	}
	return false
}

// input writes the guard's histogram for every minute of the test: the
// buckets it reads, and its _count, so that alerts on the same histogram
// see the ticks too. The series carry the on labels of the signal's series.
func (q quantileGuard) input(in *input, expr string, on map[string]string, met bool, minutes int) (quantile float64, err error) {
	for l := range on {
		if !slices.Contains(q.by, l) {
			return 0, fmt.Errorf("guard %q: its sum by (%s) drops %s, which the guard is joined on", expr, strings.Join(q.by, ", "), l)
		}
	}
	if !slices.Contains(q.by, "le") {
		return 0, fmt.Errorf("guard %q: its sum must keep le for histogram_quantile", expr)
	}
	f := -1.0
	for _, st := range []state{healthy, firing} {
		share, v := fractionFast(q.phi, q.bound, st)
		if compare(q.op, v, q.bound) == met {
			f, quantile = share, v
			break
		}
	}
	if f < 0 {
		return 0, fmt.Errorf("cannot synthesize input for guard %q: no share of observations within %s makes it %s", expr, num(q.bound), map[bool]string{true: "hold", false: "fail"}[met])
	}
	for _, b := range []struct {
		le  string
		inc float64
	}{{leValue(q.bound), f * guardTicksPerMin}, {leValue(2 * q.bound), guardTicksPerMin}, {"+Inf", guardTicksPerMin}} {
		l, err := q.series(expr, q.bucket.Name, on, b.le)
		if err != nil {
			return 0, err
		}
		if err := in.addCounter(l, b.inc, minutes); err != nil {
			return 0, err
		}
	}
	l, err := q.series(expr, strings.TrimSuffix(q.bucket.Name, "_bucket")+"_count", on, "")
	if err != nil {
		return 0, err
	}
	return quantile, in.addCounter(l, guardTicksPerMin, minutes)
}

func (q quantileGuard) series(expr, name string, on map[string]string, le string) (labelSet, error) {
	extra := map[string]string{}
	for k, v := range on {
		extra[k] = v
	}
	if le != "" {
		extra["le"] = le
	}
	l, err := seriesFor(q.bucket, name, extra)
	if err != nil {
		return nil, err
	}
	if le == "" {
		delete(l, "le")
	}
	for k, v := range on {
		if l[k] != v {
			return nil, fmt.Errorf("guard %q: its series %s cannot carry %s=%q of the signal's series", expr, q.bucket, k, v)
		}
	}
	return l, nil
}

// guardLabels are the labels a guarded signal's series carry so that its
// guard can join them: the guard's on labels, "test" unless the signal's
// selector fixes them.
func guardLabels(sig *model.Signal, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range extra {
		out[k] = v
	}
	if sig.Guard != nil {
		for _, l := range sig.Guard.On {
			if _, set := out[l]; !set {
				out[l] = "test"
			}
		}
	}
	return out
}

// guardAlert is an alert that must fire while a quantile guard of another
// alert does not hold, with the value it shows.
type guardAlert struct {
	alert *model.Alert
	value float64
}

// guardAlerts finds, for the guards of a's signals that read a quantile, the
// alerts on that very quantile beyond the same bound: "the exporter is
// starved" beside "event-loop lag, counted while the exporter is not
// starved". The test in which the guard fails asserts that they fire, so
// what silences a is proven visible, not silent.
func guardAlerts(m *model.Model, a *model.Alert) []guardAlert {
	var out []guardAlert
	seen := map[string]bool{}
	for _, c := range a.Conditions {
		g := c.Signal.Guard
		if g == nil {
			continue
		}
		expr, err := parseGuard(g.Expr)
		if err != nil {
			continue
		}
		q, ok := quantileGuardOf(expr)
		if !ok {
			continue
		}
		// The guard fails with the share of a just-firing latency input.
		share, value := fractionFast(q.phi, q.bound, firing)
		if compare(q.op, value, q.bound) {
			continue
		}
		for _, b := range m.Alerts {
			if b == a || seen[b.Name] || b.Burn != nil || b.Canary != nil || len(b.Conditions) != 1 {
				continue
			}
			s := b.Conditions[0].Signal
			if s.Kind != spec.KindLatency || s.Guard != nil || s.Histogram.Name+"_bucket" != q.bucket.Name ||
				s.Violation() != ">" {
				continue
			}
			phi, _ := s.Quantile.Rat().Float64()
			bound, _ := b.Conditions[0].Threshold.Rat().Float64()
			if phi != q.phi || bound != q.bound || share >= phi {
				continue
			}
			if s.MinRate != nil {
				if r, _ := s.MinRate.Rat().Float64(); r > guardTicksPerMin/60 {
					continue
				}
			}
			l, err := seriesFor(q.bucket, s.Histogram.Name+"_count", nil)
			if err != nil || !l.matches(withoutName(s.Histogram.LabelMatchers)) {
				continue
			}
			seen[b.Name] = true
			out = append(out, guardAlert{alert: b, value: value})
		}
	}
	return out
}

func parseGuard(s string) (parser.Expr, error) { return spec.Parser.ParseExpr(s) }

func withoutName(ms []*labels.Matcher) []*labels.Matcher {
	var out []*labels.Matcher
	for _, m := range ms {
		if m.Name != commonmodel.MetricNameLabel {
			out = append(out, m)
		}
	}
	return out
}
