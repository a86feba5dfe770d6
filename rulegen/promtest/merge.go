package promtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// longGroup is the length in minutes from which a group shares its
// evaluation steps with another: promtool evaluates every rule at every
// minute of every group, so day-long groups (24h burn windows, baselines a
// day back) dominate the suite's run time.
const longGroup = 360

// mergeLong runs long groups together when neither can see the other's
// series: their input series are disjoint and no alert or expression one
// group asserts reads a metric the other group writes. The merged group
// lasts as long as the longer of the two; each assertion sees exactly the
// series it would have seen alone.
func mergeLong(m *model.Model, groups []Group) ([]Group, error) {
	r := newReadSet(m)
	type host struct {
		at            int
		writes, reads map[string]bool
	}
	var order []int
	for i := range groups {
		if groupLength(groups[i]) >= longGroup {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return groupLength(groups[order[a]]) > groupLength(groups[order[b]]) })
	out := append([]Group(nil), groups...)
	joined := map[int]bool{}
	var hosts []*host
	for _, i := range order {
		g := out[i]
		writes := seriesMetrics(g)
		reads, err := r.group(g)
		if err != nil {
			return nil, err
		}
		var into *host
		for _, h := range hosts {
			if disjoint(h.writes, writes) && disjoint(h.reads, writes) && disjoint(reads, h.writes) {
				into = h
				break
			}
		}
		if into == nil {
			hosts = append(hosts, &host{at: i, writes: writes, reads: reads})
			continue
		}
		h := &out[into.at]
		h.addAssertions(g)
		h.InputSeries = append(h.InputSeries, g.InputSeries...)
		sort.SliceStable(h.InputSeries, func(a, b int) bool { return h.InputSeries[a].Series < h.InputSeries[b].Series })
		for k := range writes {
			into.writes[k] = true
		}
		for k := range reads {
			into.reads[k] = true
		}
		joined[i] = true
	}
	kept := out[:0]
	for i, g := range out {
		if !joined[i] {
			kept = append(kept, g)
		}
	}
	return kept, nil
}

func disjoint(a, b map[string]bool) bool {
	for k := range b {
		if a[k] {
			return false
		}
	}
	return true
}

// groupLength is the last evaluation time of a group, in minutes.
func groupLength(g Group) int {
	n := 0
	for _, t := range g.AlertRuleTests {
		n = max(n, parseMinutes(t.EvalTime))
	}
	for _, t := range g.ExprTests {
		n = max(n, parseMinutes(t.EvalTime))
	}
	return n
}

// parseMinutes reads what minutes() writes.
func parseMinutes(s string) int {
	if h, ok := strings.CutSuffix(s, "h"); ok {
		n, _ := strconv.Atoi(h)
		return n * 60
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(s, "m"))
	return n
}

// seriesMetrics is the set of metric names a group's input series write.
func seriesMetrics(g Group) map[string]bool {
	out := map[string]bool{}
	for _, s := range g.InputSeries {
		name, _, _ := strings.Cut(s.Series, "{")
		out[name] = true
	}
	return out
}

// readSet finds the raw metrics that alerts and recording rules read,
// following recording rules down to the series they aggregate.
type readSet struct {
	alerts  map[string][]string // alert name → expressions
	records map[string]string   // recording rule → expression
	memo    map[string]map[string]bool
}

func newReadSet(m *model.Model) *readSet {
	r := &readSet{alerts: map[string][]string{}, records: map[string]string{}, memo: map[string]map[string]bool{}}
	for _, a := range m.Alerts {
		r.alerts[a.Name] = append(r.alerts[a.Name], a.Expr)
	}
	for _, rec := range m.Recordings {
		r.records[rec.Record] = rec.Expr
	}
	return r
}

// group returns every raw metric the group's assertions depend on.
func (r *readSet) group(g Group) (map[string]bool, error) {
	out := map[string]bool{}
	var exprs []string
	for _, t := range g.AlertRuleTests {
		if _, ok := r.alerts[t.Alertname]; !ok {
			return nil, fmt.Errorf("group %q tests unknown alert %s", g.Name, t.Alertname)
		}
		exprs = append(exprs, r.alerts[t.Alertname]...)
	}
	for _, t := range g.ExprTests {
		exprs = append(exprs, t.Expr)
	}
	for _, e := range exprs {
		names, err := r.expr(e)
		if err != nil {
			return nil, err
		}
		for k := range names {
			out[k] = true
		}
	}
	return out, nil
}

// expr returns the raw metrics an expression reads.
func (r *readSet) expr(e string) (map[string]bool, error) {
	if got, ok := r.memo[e]; ok {
		return got, nil
	}
	parsed, err := spec.Parser.ParseExpr(e)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", e, err)
	}
	out := map[string]bool{}
	r.memo[e] = out // a rule never reads itself; this also ends cycles
	for _, sel := range parser.ExtractSelectors(parsed) {
		for _, lm := range sel {
			if lm.Name != commonmodel.MetricNameLabel {
				continue
			}
			rec, isRecord := r.records[lm.Value]
			if !isRecord {
				out[lm.Value] = true
				continue
			}
			names, err := r.expr(rec)
			if err != nil {
				return nil, err
			}
			for k := range names {
				out[k] = true
			}
		}
	}
	return out, nil
}

// mergeBurnGroups runs the same scenario of different SLOs in one promtool group
// when their input series are disjoint. promtool evaluates every rule at
// every step of every group, and long windows need a day of steps, so this
// keeps the suite fast as SLOs are added.
func mergeBurnGroups(burns []burnGroup) []Group {
	var merged []burnGroup
	for _, b := range burns {
		joined := false
		for i := range merged {
			m := &merged[i]
			if m.scenario != b.scenario || overlaps(m.in, b.in) {
				continue
			}
			m.addAssertions(b.Group)
			for k, v := range b.in.series {
				m.in.series[k] = v
			}
			joined = true
			break
		}
		if !joined {
			merged = append(merged, b)
		}
	}
	out := make([]Group, len(merged))
	for i, m := range merged {
		out[i] = m.Group
		out[i].InputSeries = m.in.seriesList()
	}
	return out
}

// addAssertions adds another group's name and every one of its assertions to g;
// the caller joins the input series. Both merges go through here, so an
// assertion kind added to Group is carried by both or by neither.
func (g *Group) addAssertions(o Group) {
	g.Name += "; " + o.Name
	g.AlertRuleTests = append(g.AlertRuleTests, o.AlertRuleTests...)
	g.ExprTests = append(g.ExprTests, o.ExprTests...)
}

func overlaps(a, b *input) bool {
	for k := range b.series {
		if _, ok := a.series[k]; ok {
			return true
		}
	}
	return false
}
