package preflight

import (
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// Checks lists every check of a preflight, in the order of the table: the
// rules, the scrape targets, the signals, the triggers, the SLOs, then
// the spec's own preflight: checks.
func Checks(m *model.Model) []*Check {
	changed := map[string]*spec.PreflightCheck{}
	var explicit []*Check
	for i := range m.Preflight {
		p := &m.Preflight[i]
		switch {
		case p.Signal != "":
			changed[p.Signal] = p
		case p.HTTP != nil:
			explicit = append(explicit, httpCheck(p))
		default:
			explicit = append(explicit, promqlCheck(p))
		}
	}
	checks := []*Check{rulesCheck(m)}
	for _, job := range jobs(m) {
		checks = append(checks, targetCheck(job))
	}
	for _, sig := range m.Signals {
		checks = append(checks, signalCheck(sig, changed[sig.Name]))
	}
	var slos []*spec.SLO
	var canaries []*Check
	seen := map[string]bool{}
	for _, a := range m.Alerts {
		switch {
		case a.Conditions != nil || a.Absent != nil:
			checks = append(checks, triggerCheck(m, a))
		case a.Canary != nil:
			canaries = append(canaries, canaryCheck(m, a))
		case a.Burn != nil && !seen[a.Burn.SLO.Name]:
			seen[a.Burn.SLO.Name] = true
			slos = append(slos, a.Burn.SLO)
		}
	}
	checks = append(checks, canaries...)
	for _, o := range slos {
		checks = append(checks, sloBurnCheck(m, o), sloBudgetCheck(m, o))
	}
	return append(checks, explicit...)
}
