package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	pmodel "github.com/prometheus/common/model"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/rulefile"
	"github.com/redline-sre/redline/rulegen/spec"
)

// rulesCheck asks Prometheus whether it evaluates the generated rule
// groups as the spec makes them, without errors. Every other check reads
// their recordings and ALERTS: rules that are not loaded leave every
// trigger silent, and rules generated from an older spec (a 200ms
// threshold where the spec now says 250ms) answer for that spec, not this
// one. Each loaded rule's query, labels and for are compared with the
// model's: names alone would pass stale rules.
func rulesCheck(m *model.Model) *Check {
	want := rulefile.Groups(m)
	names := make([]string, len(want))
	for i, g := range want {
		names[i] = g.Name
	}
	c := &Check{Name: "rules:loaded", Required: true, Threshold: "groups " + strings.Join(names, ", ") + " loaded as generated from this spec, no rule in error"}
	c.run = func(ctx context.Context, e *env) Outcome {
		qctx, cancel := context.WithTimeout(ctx, e.timeout)
		defer cancel()
		res, err := e.c.api.Rules(qctx, nil)
		q := Query{Kind: "api", Request: "GET /api/v1/rules", Time: e.at}
		if err != nil {
			q.Error = e.why(ctx, qctx, err).Error()
			e.record(q)
			return Outcome{Status: Unknown, Detail: "rules API: " + q.Error}
		}
		loaded := map[string]v1.RuleGroup{}
		mine := []v1.RuleGroup{}
		for _, g := range res.Groups {
			loaded[g.Name] = g
		}
		for _, name := range names {
			if g, ok := loaded[name]; ok {
				mine = append(mine, g)
			}
		}
		q.Result, _ = json.Marshal(mine)
		e.record(q)
		var missing, broken, differ, extra []string
		for _, g := range want {
			lg, ok := loaded[g.Name]
			if !ok {
				missing = append(missing, g.Name)
				continue
			}
			for _, r := range lg.Rules {
				switch r := r.(type) {
				case v1.RecordingRule:
					if r.Health == v1.RuleHealthBad {
						broken = append(broken, r.Name+": "+r.LastError)
					}
				case v1.AlertingRule:
					if r.Health == v1.RuleHealthBad {
						broken = append(broken, r.Name+": "+r.LastError)
					}
				}
			}
			d, x := compareGroup(g, lg)
			differ, extra = append(differ, d...), append(extra, x...)
		}
		val := fmt.Sprintf("%d/%d groups", len(names)-len(missing), len(names))
		file := rulefile.Path(m)
		switch {
		case len(missing) > 0:
			return Outcome{Status: NoGo, Value: val, Detail: fmt.Sprintf("not loaded: %s; load %s (rule_files) and reload Prometheus", strings.Join(missing, ", "), file)}
		case len(differ) > 0:
			return Outcome{Status: NoGo, Value: fmt.Sprintf("%d rules differ", len(differ)), Detail: fmt.Sprintf(
				"the loaded rules are not those this spec generates: %s; regenerate %s from this spec, load it and reload Prometheus", listed(differ), file)}
		case len(broken) > 0:
			return Outcome{Status: NoGo, Value: val, Detail: "rules in error: " + listed(broken)}
		}
		if len(extra) > 0 {
			return Outcome{Status: GO, Value: val, Detail: "also loaded, not generated from this spec: " + listed(extra)}
		}
		return Outcome{Status: GO, Value: val}
	}
	return c
}

// loadedRule is a rule as the rules API returns it, reduced to what the
// rule file sets.
type loadedRule struct {
	name, query string
	labels      map[string]string
	// forSeconds is the alert's for; -1 on a recording rule.
	forSeconds float64
}

// compareGroup lists how a loaded group differs from the generated one,
// each difference naming its rule, and the loaded rules this spec does
// not generate (extra: a spec that reads a subset of the group's signals
// is judged on its own rules). Rules are matched by name and by their
// place among the rules of that name (a record name may repeat).
func compareGroup(want rulefile.Group, got v1.RuleGroup) (differ, extra []string) {
	have := map[string][]loadedRule{}
	for _, r := range got.Rules {
		var lr loadedRule
		switch r := r.(type) {
		case v1.RecordingRule:
			lr = loadedRule{name: r.Name, query: r.Query, labels: labelMap(r.Labels), forSeconds: -1}
		case v1.AlertingRule:
			lr = loadedRule{name: r.Name, query: r.Query, labels: labelMap(r.Labels), forSeconds: r.Duration}
		default:
			continue
		}
		have[lr.name] = append(have[lr.name], lr)
	}
	var out []string
	seen := map[string]int{}
	for _, w := range want.Rules {
		name, forSeconds := w.Record, -1.0
		if w.Alert != "" {
			name = w.Alert
			forSeconds = 0
			if w.For != "" {
				if d, err := pmodel.ParseDuration(w.For); err == nil {
					forSeconds = time.Duration(d).Seconds()
				}
			}
		}
		i := seen[name]
		seen[name]++
		if i >= len(have[name]) {
			out = append(out, fmt.Sprintf("%s: not loaded in group %s", name, want.Name))
			continue
		}
		g := have[name][i]
		if normalQuery(g.query) != normalQuery(w.Expr) {
			out = append(out, fmt.Sprintf("%s: loaded expr %s, the spec makes %s", name, oneLine(g.query), oneLine(normalQuery(w.Expr))))
		}
		if !maps.Equal(g.labels, nonEmpty(w.Labels)) {
			out = append(out, fmt.Sprintf("%s: loaded labels %s, the spec makes %s", name, labelsText(g.labels), labelsText(nonEmpty(w.Labels))))
		}
		if forSeconds >= 0 && g.forSeconds != forSeconds {
			out = append(out, fmt.Sprintf("%s: loaded for %s, the spec makes %s", name, time.Duration(g.forSeconds*float64(time.Second)), time.Duration(forSeconds*float64(time.Second))))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(have)) {
		if len(have[name]) > seen[name] {
			extra = append(extra, name)
		}
	}
	return out, extra
}

// normalQuery prints an expression the way Prometheus prints a loaded
// rule's query, so that layout (line breaks, spacing) does not count.
func normalQuery(q string) string {
	e, err := spec.Parser.ParseExpr(q)
	if err != nil {
		return strings.Join(strings.Fields(q), " ")
	}
	return e.String()
}

func labelMap(ls pmodel.LabelSet) map[string]string {
	out := map[string]string{}
	for k, v := range ls {
		out[string(k)] = string(v)
	}
	return out
}

// nonEmpty drops labels with empty values, which Prometheus drops too.
func nonEmpty(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func labelsText(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
