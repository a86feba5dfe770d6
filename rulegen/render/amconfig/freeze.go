package amconfig

import "github.com/redline-sre/redline/rulegen/model"

// addFreeze routes release-freeze alerts (freeze="true") to their own
// webhook: a freeze stops releases in CI/CD and pages nobody. continue
// lets the user's own routes after the fragment see the freeze as well.
func addFreeze(c *config, m *model.Model) {
	f := m.Freeze
	if f == nil {
		return
	}
	rollback := c.Route.Routes[0]
	c.Route.Routes = append(c.Route.Routes, route{
		Receiver:       f.Receiver,
		Matchers:       []string{eq("freeze", "true"), eq("service", m.Service)},
		GroupBy:        c.Route.GroupBy,
		GroupWait:      rollback.GroupWait,
		GroupInterval:  rollback.GroupInterval,
		RepeatInterval: rollback.RepeatInterval,
		Continue:       true,
	})
	c.Receivers = append(c.Receivers, receiver{Name: f.Receiver, WebhookConfigs: []webhook{{URL: f.WebhookURL, SendResolved: true}}})
}
