package promtest

import (
	"fmt"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// A labelSet is one synthesized series' labels, __name__ included.
type labelSet map[string]string

func (l labelSet) clone() labelSet {
	c := labelSet{}
	for k, v := range l {
		c[k] = v
	}
	return c
}

// String prints the series as promtool's input_series reads it.
func (l labelSet) String() string {
	var keys []string
	for k := range l {
		if k != commonmodel.MetricNameLabel {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(l[k])
	}
	return l[commonmodel.MetricNameLabel] + "{" + strings.Join(parts, ", ") + "}"
}

// matches reports whether a series with these labels is selected.
func (l labelSet) matches(ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(l[m.Name]) {
			return false
		}
	}
	return true
}

// fallbacks are tried, in order, for matchers whose examples conflict.
var fallbacks = []string{"", "x", "test", "ok", "200", "rulegen"}

// seriesFor builds labels that the selector's matchers select, with the
// metric renamed (histogram suffixes) and extra labels added.
func seriesFor(vs *parser.VectorSelector, name string, extra map[string]string) (labelSet, error) {
	l := labelSet{}
	var ms []*labels.Matcher
	for _, m := range vs.LabelMatchers {
		if m.Name != commonmodel.MetricNameLabel {
			ms = append(ms, m)
		}
	}
	byName := map[string][]*labels.Matcher{}
	var names []string
	for _, m := range ms {
		if byName[m.Name] == nil {
			names = append(names, m.Name)
		}
		byName[m.Name] = append(byName[m.Name], m)
	}
	for _, n := range names {
		v, ok := valueFor(byName[n])
		if !ok {
			return nil, fmt.Errorf("no label value of %s satisfies %s", n, vs.String())
		}
		if v != "" {
			l[n] = v
		}
	}
	for k, v := range extra {
		if _, set := l[k]; !set {
			l[k] = v
		}
	}
	l[commonmodel.MetricNameLabel] = name
	if !l.matches(ms) {
		return nil, fmt.Errorf("cannot build a series for %s", vs.String())
	}
	return l, nil
}

// valueFor finds one value that satisfies every matcher on a label.
func valueFor(ms []*labels.Matcher) (string, bool) {
	var candidates []string
	for _, m := range ms {
		candidates = append(candidates, example(m))
	}
	candidates = append(candidates, fallbacks...)
	for _, c := range candidates {
		ok := true
		for _, m := range ms {
			if !m.Matches(c) {
				ok = false
				break
			}
		}
		if ok {
			return c, true
		}
	}
	return "", false
}

// example returns a value the matcher selects (best effort; callers check).
func example(m *labels.Matcher) string {
	switch m.Type {
	case labels.MatchEqual:
		return m.Value
	case labels.MatchNotEqual:
		if m.Value == "" {
			return "x"
		}
		return ""
	case labels.MatchRegexp:
		re, err := syntax.Parse(m.Value, syntax.Perl)
		if err != nil {
			return ""
		}
		return regexExample(re.Simplify())
	}
	return ""
}

// regexExample builds a short string the regular expression matches.
func regexExample(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		return string(re.Rune)
	case syntax.OpCharClass:
		if len(re.Rune) > 0 {
			return string(re.Rune[0])
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return "x"
	case syntax.OpCapture, syntax.OpPlus:
		return regexExample(re.Sub[0])
	case syntax.OpRepeat:
		return strings.Repeat(regexExample(re.Sub[0]), re.Min)
	case syntax.OpConcat:
		var b strings.Builder
		for _, s := range re.Sub {
			b.WriteString(regexExample(s))
		}
		return b.String()
	case syntax.OpAlternate:
		return regexExample(re.Sub[0])
	}
	return ""
}

// breakMatch changes one label so that the series no longer matches avoid
// while it still matches keep: the "good requests" series of a ratio must
// be counted in the total but not in the errors.
func breakMatch(l labelSet, avoid, keep []*labels.Matcher) (labelSet, bool) {
	for _, m := range avoid {
		if m.Name == commonmodel.MetricNameLabel {
			continue
		}
		for _, c := range fallbacks {
			t := l.clone()
			if c == "" {
				delete(t, m.Name)
			} else {
				t[m.Name] = c
			}
			if t.matches(keep) && !t.matches(avoid) {
				return t, true
			}
		}
	}
	return nil, false
}
