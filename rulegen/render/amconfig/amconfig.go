// Package amconfig writes a complete, minimal Alertmanager configuration
// whose rollback route, receiver and inhibit rule are meant to be merged
// into the user's own configuration.
package amconfig

import (
	"slices"
	"strconv"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/spec"
)

type config struct {
	Route        route         `yaml:"route"`
	Receivers    []receiver    `yaml:"receivers"`
	InhibitRules []inhibitRule `yaml:"inhibit_rules"`
}

type route struct {
	Receiver       string   `yaml:"receiver"`
	Matchers       []string `yaml:"matchers,omitempty"`
	GroupBy        []string `yaml:"group_by"`
	GroupWait      string   `yaml:"group_wait,omitempty"`
	GroupInterval  string   `yaml:"group_interval,omitempty"`
	RepeatInterval string   `yaml:"repeat_interval,omitempty"`
	Continue       bool     `yaml:"continue,omitempty"`
	Routes         []route  `yaml:"routes,omitempty"`
}

type receiver struct {
	Name           string    `yaml:"name"`
	WebhookConfigs []webhook `yaml:"webhook_configs,omitempty"`
}

type webhook struct {
	URL          string `yaml:"url"`
	SendResolved bool   `yaml:"send_resolved"`
}

type inhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// Path is where the Alertmanager configuration of a model goes.
func Path(m *model.Model) string { return "alertmanager/" + m.Service + ".yml" }

func eq(name, value string) string { return name + "=" + strconv.Quote(value) }

// identityLabels are what the inhibit rules compare: the service and
// signal, the labels that name one thing (pod, pool, table…), every
// label a signal of this spec keeps in by:, so that an alert about one
// collector or shard never silences one about another, and the canary's
// track label, so that an alert about the canary track never silences
// one about the whole service.
func identityLabels(m *model.Model) []string {
	out := append([]string{"service", "signal"}, spec.IdentityLabels...)
	for _, s := range m.Signals {
		for _, l := range s.By {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	if c := m.Canary; c != nil && !slices.Contains(out, c.Label) {
		out = append(out, c.Label)
	}
	return out
}

// Render writes alertmanager/<service>.yml.
func Render(m *model.Model) (render.File, error) {
	am := m.Alertmanager
	identity := identityLabels(m)
	service := eq("service", m.Service)
	groupBy := []string{"alertname", "service"}
	c := config{
		Route: route{
			Receiver: am.DefaultReceiver,
			GroupBy:  groupBy,
			Routes: []route{{
				Receiver: am.Receiver,
				Matchers: []string{eq("rollback", "true"), service},
				GroupBy:  groupBy,
				// Rollbacks are urgent: send the first notification fast.
				GroupWait:      am.GroupWait.String(),
				GroupInterval:  am.GroupInterval.String(),
				RepeatInterval: am.RepeatInterval.String(),
				// Keep matching so that the routes after this one still
				// page people about the rollback.
				Continue: true,
			}},
		},
		Receivers: []receiver{
			{Name: am.DefaultReceiver},
			{Name: am.Receiver, WebhookConfigs: []webhook{{URL: am.WebhookURL, SendResolved: true}}},
		},
		InhibitRules: []inhibitRule{{
			// A rollback already in motion makes a page about the same
			// signal on the same thing (pool, table, sequence, server,
			// pod) a duplicate. Labels missing on both sides count as
			// equal, so the identity labels narrow the rule only where
			// alerts carry them. SLO burn pages (slo label) are never
			// inhibited: a stuck rollback alert must not hide the budget.
			// A rollback drill's alert (drill="true") is no rollback in
			// motion and must silence nothing.
			SourceMatchers: []string{eq("rollback", "true"), service, notDrill},
			TargetMatchers: []string{eq("action", "page"), service, `slo=""`},
			Equal:          identity,
		}, {
			// A critical alert makes the warning about the same signal on
			// the same thing redundant (sequence 95% over 85%, clock skew
			// 1s over 100ms). SLO burn tickets (slo label) are not among
			// the targets: a trigger on the signal says nothing about how
			// much of the budget is left.
			SourceMatchers: []string{eq("severity", "critical"), service, notDrill},
			TargetMatchers: []string{eq("severity", "warning"), service, `slo=""`},
			Equal:          identity,
		}},
	}
	if len(m.SLOs) > 0 {
		// The fast burn window's page makes the slow window's ticket about
		// the same SLO redundant: the page already shows that budget.
		c.InhibitRules = append(c.InhibitRules, inhibitRule{
			SourceMatchers: []string{eq("severity", "critical"), service, `slo=~".+"`},
			TargetMatchers: []string{eq("severity", "warning"), service, `slo=~".+"`},
			Equal:          []string{"service", "slo"},
		})
	}
	for _, in := range m.Inhibitions {
		// The spec's inhibited_by: one cause, one page. The spec rejects
		// it on rollback triggers, and SLO burn alerts have none.
		c.InhibitRules = append(c.InhibitRules, inhibitRule{
			SourceMatchers: []string{eq("alertname", in.Cause), service},
			TargetMatchers: []string{eq("alertname", in.Effect), service},
			Equal:          in.Equal,
		})
	}
	addFreeze(&c, m)
	addDrill(&c)
	data, err := render.YAML(m, c)
	return render.File{Path: Path(m), Data: data}, err
}
