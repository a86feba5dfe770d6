package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/spec"
)

// Check is one measurement of a canary analysis (an Argo Rollouts metric,
// a Flagger metric template), derived from a rollback alert: the alert's
// own condition, with every recorded series written out so that it can be
// scoped to the canary's series.
//
// Its query answers with one number: how many series break the condition
// (0 healthy, more is a failure), NaN when a signal's value is NaN (a ratio
// over no requests), and nothing when the condition cannot be evaluated
// (below the low-traffic guard, no series). The engines must treat the
// last two as "not known", never as a pass.
type Check struct {
	Alert *Alert
	// Comparison is set on canary-versus-baseline alerts; the others are
	// rollback triggers.
	Comparison bool
	// violation is the alert's condition; data has a sample exactly when
	// the condition can be evaluated, NaN when a value is NaN. Both are
	// expanded (no recorded series).
	violation, data parser.Expr
	m               *Model
}

// Scope says how an engine tells the canary's series from the others: the
// label and the values (often engine template text such as
// {{args.canary-track}}) of the canary and the baseline track.
type Scope struct {
	Label, Canary, Baseline string
}

// addChecks derives a check from every rollback trigger and every canary
// comparison. SLO burn alerts are left out: they read hours of recorded
// history, longer than a canary stage, and are about the whole service.
func (m *Model) addChecks() error {
	for _, a := range m.Alerts {
		if a.Labels["rollback"] != "true" || a.Burn != nil || a.Absent != nil {
			continue
		}
		c := &Check{Alert: a, Comparison: a.Canary != nil, m: m}
		var err error
		if c.violation, err = m.expandText(a.Expr); err != nil {
			return fmt.Errorf("alert %s: %w", a.Name, err)
		}
		if c.data, err = m.expandText(m.dataExpr(a)); err != nil {
			return fmt.Errorf("alert %s: %w", a.Name, err)
		}
		m.Checks = append(m.Checks, c)
	}
	return nil
}

// dataExpr is the recorded expression that has a sample when an alert's
// condition can be evaluated: every signal value it compares, past its
// low-traffic guard. Sums carry a NaN through.
func (m *Model) dataExpr(a *Alert) string {
	if cc := a.Canary; cc != nil {
		c := cc.Tracks
		canary := fmt.Sprintf("{%s=%q}", c.Label, c.Canary)
		base := fmt.Sprintf("{%s=%q}", c.Label, c.Baseline)
		guard, cmp := "0", ">"
		if cc.Signal.MinRate != nil {
			guard, cmp = cc.Signal.MinRate.String(), ">="
		}
		return fmt.Sprintf("(sum(%s%s) + sum(%s%s)) and on() (sum(%s%s) %s %s) and on() (sum(%s%s) %s %s)",
			cc.Value, canary, cc.Value, base, cc.Traffic, canary, cmp, guard, cc.Traffic, base, cmp, guard)
	}
	var sums string
	for i, c := range a.Conditions {
		if i > 0 {
			sums += " + "
		}
		sums += "(" + signalData(c.Signal) + ")"
	}
	return sums
}

// signalData is a signal's value where it can be compared with a
// threshold, summed to one sample (the kind's data).
func signalData(s *Signal) string { return s.kind().data(s) }

// presentData is the fallback of a signal with a present selector: 0
// while that selector has series and the signal's source has none; no
// data when neither has series, or when the source has series that give
// no value yet (a counter's first sample).
func presentData(s *Signal) string {
	if s.Present == "" {
		return ""
	}
	return fmt.Sprintf(" or (0 * sum(%s) unless on() count(%s))", s.Present, s.Source())
}

// guardedData is the sum of a ratio's or latency's value past its
// low-traffic guard.
func guardedData(s *Signal) string {
	if s.MinRate != nil {
		return fmt.Sprintf("sum(%s) and on() (sum(%s) >= %s)", s.Value, s.Traffic, s.MinRate.String())
	}
	return fmt.Sprintf("sum(%s)", s.Value)
}

// Query is the check's PromQL for an engine: the number of series that
// break the condition, or 0 when it holds, as described on Check. Series
// of the canary's selectors are scoped to the canary; in comparisons the
// baseline track is named by the scope too.
func (c *Check) Query(s Scope) (string, error) {
	violation := c.m.scoped(c.violation, s, !c.Comparison)
	data := c.m.scoped(c.data, s, !c.Comparison)
	q := fmt.Sprintf("count(%s) or 0 * (%s)", violation, data)
	e, err := spec.Parser.ParseExpr(q)
	if err != nil {
		return "", fmt.Errorf("query of %s: %w", c.Alert.Name, err)
	}
	return dedent(parser.Prettify(e)), nil
}

// dedent removes the indentation every line of a prettified expression
// shares.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	cut := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if cut < 0 || n < cut {
			cut = n
		}
	}
	for i, l := range lines {
		if len(l) >= cut && cut > 0 {
			lines[i] = l[cut:]
		}
	}
	return strings.Join(lines, "\n")
}

// CanaryMatcher is the matcher a scoped check adds to every selector of
// the canary's series.
func (s Scope) CanaryMatcher() *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchEqual, s.Label, s.Canary)
}

// scoped copies an expanded expression for an engine. Trigger conditions
// (track true) get the canary matcher on every selector of the spec's
// canary selectors; comparisons already name both tracks, and their track
// label and values are renamed to the engine's.
func (m *Model) scoped(e parser.Expr, s Scope, track bool) string {
	out, err := spec.Parser.ParseExpr(e.String())
	if err != nil {
		panic(fmt.Sprintf("model: an expanded expression does not parse back: %v", err)) // a rulegen bug
	}
	c := m.Canary
	parser.Inspect(out, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			if i := slices.IndexFunc(n.LabelMatchers, func(lm *labels.Matcher) bool { return lm.Name == baselineMarker }); i >= 0 {
				n.LabelMatchers = slices.Delete(n.LabelMatchers, i, i+1)
				if track && m.canarySeries(n) {
					n.LabelMatchers = append(n.LabelMatchers, labels.MustNewMatcher(labels.MatchEqual, s.Label, s.Baseline))
				}
				return nil
			}
			if track {
				if m.canarySeries(n) {
					n.LabelMatchers = append(n.LabelMatchers, s.CanaryMatcher())
				}
				return nil
			}
			for i, lm := range n.LabelMatchers {
				if lm.Name != c.Label || lm.Type != labels.MatchEqual {
					continue
				}
				switch lm.Value {
				case c.Canary:
					n.LabelMatchers[i] = labels.MustNewMatcher(labels.MatchEqual, s.Label, s.Canary)
				case c.Baseline:
					n.LabelMatchers[i] = labels.MustNewMatcher(labels.MatchEqual, s.Label, s.Baseline)
				}
			}
		case *parser.AggregateExpr:
			if !track {
				n.Grouping = rename(n.Grouping, c.Label, s.Label)
			}
		case *parser.BinaryExpr:
			if !track && n.VectorMatching != nil {
				n.VectorMatching.MatchingLabels = rename(n.VectorMatching.MatchingLabels, c.Label, s.Label)
			}
		}
		return nil
	})
	return out.String()
}

func rename(names []string, from, to string) []string {
	out := slices.Clone(names)
	for i, n := range out {
		if n == from {
			out[i] = to
		}
	}
	return out
}

// canarySeries reports whether a selector reads series of the canary's
// pods: it holds every matcher of one of the spec's canary selectors.
func (m *Model) canarySeries(vs *parser.VectorSelector) bool {
	for _, sel := range m.trackSelectors {
		want, err := parseSelector("{" + sel + "}")
		if err != nil || want == nil {
			continue
		}
		all := true
		for _, w := range want.LabelMatchers {
			if !slices.ContainsFunc(vs.LabelMatchers, func(lm *labels.Matcher) bool {
				return lm.Name == w.Name && lm.Type == w.Type && lm.Value == w.Value
			}) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// TracksCompared reports whether a canary alert compares a signal between
// the tracks: a kind that compares tracks (spec.Signal.ComparesTracks),
// when the spec has a canary, and when the canary names selectors only a
// signal that reads the canary's series (an exporter's probe of the whole
// service has no track).
func (m *Model) TracksCompared(s *Signal) bool {
	if m.Canary == nil || !s.ComparesTracks() {
		return false
	}
	if len(m.trackSelectors) == 0 {
		return true
	}
	vs, err := parseSelector(s.Source())
	return err == nil && vs != nil && m.canarySeries(vs)
}
