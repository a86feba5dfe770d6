package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/redline-sre/redline/rulegen/model"
)

// rulesCheck asks Prometheus whether it evaluates the generated rule
// groups, without errors. Every other check reads their recordings and
// ALERTS: rules that are not loaded leave every trigger silent.
func rulesCheck(m *model.Model) *Check {
	groups := m.Groups()
	c := &Check{Name: "rules:loaded", Required: true, Threshold: "groups " + strings.Join(groups, ", ") + " loaded, no rule in error"}
	c.run = func(ctx context.Context, e *env) Outcome {
		ctx, cancel := context.WithTimeout(ctx, e.timeout)
		defer cancel()
		res, err := e.c.api.Rules(ctx, nil)
		q := Query{Kind: "api", Request: "GET /api/v1/rules", Time: e.at}
		if err != nil {
			q.Error = scrub(err).Error()
			e.record(q)
			return Outcome{Status: Unknown, Detail: "rules API: " + q.Error}
		}
		loaded := map[string]v1.RuleGroup{}
		mine := []v1.RuleGroup{}
		for _, g := range res.Groups {
			loaded[g.Name] = g
		}
		for _, name := range groups {
			if g, ok := loaded[name]; ok {
				mine = append(mine, g)
			}
		}
		q.Result, _ = json.Marshal(mine)
		e.record(q)
		var missing, broken []string
		for _, name := range groups {
			g, ok := loaded[name]
			if !ok {
				missing = append(missing, name)
				continue
			}
			for _, r := range g.Rules {
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
		}
		val := fmt.Sprintf("%d/%d groups", len(groups)-len(missing), len(groups))
		switch {
		case len(missing) > 0:
			return Outcome{Status: NoGo, Value: val, Detail: fmt.Sprintf("not loaded: %s; load rules/%s.rules.yml (rule_files) and reload Prometheus", strings.Join(missing, ", "), m.Service)}
		case len(broken) > 0:
			return Outcome{Status: NoGo, Value: val, Detail: "rules in error: " + listed(broken)}
		}
		return Outcome{Status: GO, Value: val}
	}
	return c
}
