// Package rulefile writes the Prometheus rule file: the recordings of
// scraped series in one group, the SLOs' ratios and budgets (which read
// only that group's recordings) in a second, and alerts in a third.
package rulefile

import (
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
)

type ruleFile struct {
	Groups []Group `yaml:"groups"`
}

// Group is one rule group as the rule file writes it; the PrometheusRule
// and Mimir writers carry the same groups.
type Group struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is one recording or alerting rule.
type Rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Path is where the rule file of a model goes.
func Path(m *model.Model) string { return "rules/" + m.Service + ".rules.yml" }

// Groups are the rule file's groups, in evaluation order.
func Groups(m *model.Model) []Group {
	var groups []Group
	for _, name := range m.Groups() {
		if name == m.AlertGroup() {
			continue
		}
		g := Group{Name: name}
		for _, r := range m.GroupRecordings(name) {
			g.Rules = append(g.Rules, Rule{Record: r.Record, Expr: r.Expr})
		}
		groups = append(groups, g)
	}
	alerts := Group{Name: m.AlertGroup()}
	for _, a := range m.Alerts {
		alerts.Rules = append(alerts.Rules, Rule{
			Alert: a.Name, Expr: a.Expr, For: a.For.String(),
			Labels: a.Labels, Annotations: a.Annotations,
		})
	}
	if len(alerts.Rules) > 0 {
		groups = append(groups, alerts)
	}
	return groups
}

// Render writes rules/<service>.rules.yml.
func Render(m *model.Model) (render.File, error) {
	data, err := render.YAML(m, ruleFile{Groups: Groups(m)})
	return render.File{Path: Path(m), Data: data}, err
}
