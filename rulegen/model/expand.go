package model

import (
	"fmt"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/spec"
)

// expandText parses a rule expression and writes every recorded series it
// reads out as the recording's own expression, so that the result reads
// only scraped series. A canary engine needs that: it scopes the scraped
// series to the canary, which the service-wide recordings have summed away.
func (m *Model) expandText(expr string) (parser.Expr, error) {
	e, err := spec.Parser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	return m.expand(e, nil)
}

// expand replaces recorded series in e. A recorded series selected with
// label matchers ({track="canary"} on a per-track recording) becomes its
// expression with those matchers pushed down to the series it reads: the
// recording keeps that label from them, so filtering before aggregating is
// filtering after.
func (m *Model) expand(e parser.Expr, push []*labels.Matcher) (parser.Expr, error) {
	switch n := e.(type) {
	case *parser.VectorSelector:
		rec := m.recording(n.Name)
		if rec == nil {
			if len(push) > 0 {
				n.LabelMatchers = append(n.LabelMatchers, push...)
			}
			return n, nil
		}
		if n.OriginalOffset != 0 || n.Timestamp != nil || n.StartOrEnd != 0 {
			return nil, fmt.Errorf("recorded series %s is read with an offset or @", n.Name)
		}
		more := append([]*labels.Matcher(nil), push...)
		for _, lm := range n.LabelMatchers {
			if lm.Name != commonmodel.MetricNameLabel {
				more = append(more, lm)
			}
		}
		x, err := m.expandRecording(rec, more)
		if err != nil || !m.baselineFallback[rec.Record] {
			return x, err
		}
		// The same recording marked for the baseline track (scoped()
		// puts the baseline's matcher where the canary's would go), read
		// when the canary's own has no sample.
		mark := labels.MustNewMatcher(labels.MatchEqual, baselineMarker, "")
		y, err := m.expandRecording(rec, append(more, mark))
		if err != nil {
			return nil, err
		}
		return &parser.ParenExpr{Expr: &parser.BinaryExpr{Op: parser.LOR, LHS: x, RHS: y,
			VectorMatching: &parser.VectorMatching{Card: parser.CardManyToMany}}}, nil
	case *parser.MatrixSelector:
		vs := n.VectorSelector.(*parser.VectorSelector)
		if m.recording(vs.Name) != nil {
			return nil, fmt.Errorf("recorded series %s is read over a range", vs.Name)
		}
		if len(push) > 0 {
			vs.LabelMatchers = append(vs.LabelMatchers, push...)
		}
		return n, nil
	case *parser.ParenExpr:
		x, err := m.expand(n.Expr, push)
		n.Expr = x
		return n, err
	case *parser.UnaryExpr:
		x, err := m.expand(n.Expr, push)
		n.Expr = x
		return n, err
	case *parser.AggregateExpr:
		x, err := m.expand(n.Expr, push)
		n.Expr = x
		return n, err
	case *parser.Call:
		for i, a := range n.Args {
			x, err := m.expand(a, push)
			if err != nil {
				return nil, err
			}
			n.Args[i] = x
		}
		return n, nil
	case *parser.SubqueryExpr:
		x, err := m.expand(n.Expr, push)
		n.Expr = x
		return n, err
	case *parser.BinaryExpr:
		lhs, err := m.expand(n.LHS, push)
		if err != nil {
			return nil, err
		}
		n.LHS = lhs
		// The right side of and/unless only filters (a traffic guard, a
		// process-age guard): it keeps its own series.
		rpush := push
		if n.Op == parser.LAND || n.Op == parser.LUNLESS {
			rpush = nil
		}
		rhs, err := m.expand(n.RHS, rpush)
		n.RHS = rhs
		return n, err
	}
	return e, nil
}

// baselineMarker marks the selectors of a baseline-track fallback between
// expansion and scoping; no query keeps it.
const baselineMarker = "__rulegen_baseline_track__"

func (m *Model) expandRecording(rec *Recording, push []*labels.Matcher) (parser.Expr, error) {
	inner, err := spec.Parser.ParseExpr(rec.Expr)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", rec.Record, err)
	}
	x, err := m.expand(inner, push)
	if err != nil {
		return nil, err
	}
	return &parser.ParenExpr{Expr: x}, nil
}

// fallBackToBaseline makes canary checks read a recording from the
// baseline track when the canary's series give it no sample.
func (m *Model) fallBackToBaseline(record string) {
	if m.baselineFallback == nil {
		m.baselineFallback = map[string]bool{}
	}
	m.baselineFallback[record] = true
}

func (m *Model) recording(name string) *Recording {
	if name == "" {
		return nil
	}
	for i := range m.Recordings {
		if m.Recordings[i].Record == name {
			return &m.Recordings[i]
		}
	}
	return nil
}
