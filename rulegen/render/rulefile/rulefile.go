// Package rulefile writes the Prometheus rule file: recording rules in one
// group (in dependency order, so every rule sees this evaluation's inputs)
// and alerts in another.
package rulefile

import (
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
)

type ruleFile struct {
	Groups []group `yaml:"groups"`
}

type group struct {
	Name  string `yaml:"name"`
	Rules []rule `yaml:"rules"`
}

type rule struct {
	Record      string            `yaml:"record,omitempty"`
	Alert       string            `yaml:"alert,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

// Path is where the rule file of a model goes.
func Path(m *model.Model) string { return "rules/" + m.Service + ".rules.yml" }

// Render writes rules/<service>.rules.yml.
func Render(m *model.Model) (render.File, error) {
	rec := group{Name: m.RecordingGroup()}
	for _, r := range m.Recordings {
		rec.Rules = append(rec.Rules, rule{Record: r.Record, Expr: r.Expr})
	}
	alerts := group{Name: m.AlertGroup()}
	for _, a := range m.Alerts {
		alerts.Rules = append(alerts.Rules, rule{
			Alert: a.Name, Expr: a.Expr, For: a.For.String(),
			Labels: a.Labels, Annotations: a.Annotations,
		})
	}
	f := ruleFile{Groups: []group{rec}}
	if len(alerts.Rules) > 0 {
		f.Groups = append(f.Groups, alerts)
	}
	data, err := render.YAML(m, f)
	return render.File{Path: Path(m), Data: data}, err
}
