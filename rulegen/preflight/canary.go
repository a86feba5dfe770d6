package preflight

import (
	"context"
	"fmt"
	"strings"

	"github.com/redline-sre/redline/rulegen/model"
)

// canaryCheck evaluates a canary alert (<Signal>CanaryWorse: the canary
// track worse than the threshold and factor × the baseline track) now,
// without its for, and reads its ALERTS series: a canary that the rollback
// route is about to roll back, or is rolling back, is NO-GO — the gate
// of a stage (`--watch`) must stop on it. Without a canary track (before
// the release, or after the promotion) there is nothing to compare, which
// is GO: the check says so in its value.
func canaryCheck(m *model.Model, a *model.Alert) *Check {
	cc := a.Canary
	sig, tr := cc.Signal, cc.Tracks
	c := &Check{Name: "canary:" + a.Name, Required: true, Threshold: fmt.Sprintf(
		"%s=%q: %s not (%s %s and %s %s× %s=%q)", tr.Label, tr.Canary, sig.Name, sig.Violation(), sig.ThresholdText(*sig.Threshold), sig.Violation(), tr.Factor.String(), tr.Label, tr.Baseline)}
	alerts := fmt.Sprintf("ALERTS{alertname=%q, service=%q}", a.Name, m.Service)
	canary := fmt.Sprintf("%s{%s=%q}", cc.Traffic, tr.Label, tr.Canary)
	value := fmt.Sprintf("%s{%s=%q}", cc.Value, tr.Label, tr.Canary)
	c.run = func(ctx context.Context, e *env) Outcome {
		now, err := e.vector(ctx, a.Expr)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		state, err := e.vector(ctx, alerts)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		var why []string
		if len(now) > 0 {
			var series []string
			for _, s := range now {
				series = append(series, seriesText(identity(s.Metric))+" = "+valueIn(sig, float64(s.Value)))
			}
			why = append(why, "the canary is worse now: "+listed(series))
		}
		for _, s := range state {
			why = append(why, fmt.Sprintf("%s %s (rollback=%q)", a.Name, s.Metric["alertstate"], s.Metric["rollback"]))
		}
		if len(why) > 0 {
			return Outcome{Status: NoGo, Value: unitValues(sig, now), Detail: strings.Join(why, "; ")}
		}
		traffic, err := e.vector(ctx, canary)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		if len(traffic) == 0 {
			return Outcome{Status: GO, Value: "no canary", Detail: fmt.Sprintf("no series %s: no canary track to compare", canary)}
		}
		v, err := e.vector(ctx, value)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		return Outcome{Status: GO, Value: "canary " + unitValues(sig, v)}
	}
	return c
}
