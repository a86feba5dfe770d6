package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	pmodel "github.com/prometheus/common/model"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// triggerCheck evaluates a trigger's alert expression now — without its
// for, so a condition that has just begun counts — and reads its ALERTS
// series (pending or firing). Ticket triggers are warnings; rollback and
// page triggers block.
func triggerCheck(m *model.Model, a *model.Alert) *Check {
	c := &Check{Name: "trigger:" + a.Name, Required: a.Labels["action"] != spec.ActionTicket, after: true}
	var parts []string
	for _, cond := range a.Conditions {
		sig := cond.Signal
		if sig.Kind == spec.KindBaseline {
			parts = append(parts, fmt.Sprintf("%s at most %s above its %s", sig.Name, sig.Tolerance.Text, sig.BaselineName()))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", sig.Name, sig.Signal.Op, sig.ThresholdText(cond.Threshold)))
	}
	if a.Absent != nil {
		parts = append(parts, "series present")
	}
	c.Threshold = strings.Join(parts, " or ")
	alerts := fmt.Sprintf("ALERTS{alertname=%q, service=%q}", a.Name, m.Service)
	// The alert's value is its first condition's signal, in that
	// signal's unit (an absent() alert's 1 is a plain number).
	show := func(v float64) string { return formatValue(v) }
	shows := valuesText
	if a.Absent == nil && len(a.Conditions) > 0 && a.Conditions[0].Signal.Kind != spec.KindBaseline {
		sig := a.Conditions[0].Signal
		show = func(v float64) string { return valueIn(sig, v) }
		shows = func(v pmodel.Vector) string { return unitValues(sig, v) }
	}
	c.run = func(ctx context.Context, e *env) Outcome {
		now, err := e.vector(ctx, a.Expr)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		state, err := e.vector(ctx, alerts)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		// The alert's state per thing it is about (a pool, a table).
		states := map[string]string{}
		for _, a := range state {
			states[seriesText(identity(a.Metric))] = string(a.Metric["alertstate"])
		}
		var why []string
		if len(now) > 0 {
			var series []string
			for _, s := range now {
				id := seriesText(identity(s.Metric))
				text := id + " = " + show(float64(s.Value))
				if st, ok := states[id]; ok {
					text += " (" + st + ")"
					delete(states, id)
				}
				series = append(series, text)
			}
			if a.Absent != nil {
				why = append(why, fmt.Sprintf("no series matches %s", a.Absent.Source))
			} else {
				why = append(why, "condition holds now for "+listed(series))
			}
		}
		for _, id := range sortedKeys(states) {
			if id == "{}" {
				why = append(why, "ALERTS "+states[id])
			} else {
				why = append(why, fmt.Sprintf("ALERTS %s for %s", states[id], id))
			}
		}
		if len(why) > 0 {
			return Outcome{Status: NoGo, Value: shows(now), Detail: strings.Join(why, "; ")}
		}
		if a.Absent == nil {
			var blind []string
			warning := true
			for _, cond := range a.Conditions {
				if o, ok := e.signals[cond.Signal.Name]; ok && o.Status != GO {
					blind = append(blind, fmt.Sprintf("signal %s cannot be judged (signal:%s: %s)", cond.Signal.Name, cond.Signal.Name, o.Value))
					warning = warning && o.Warning
				}
			}
			if len(blind) > 0 {
				return Outcome{Status: Unknown, Value: "not firing", Detail: "silent, but " + strings.Join(blind, "; "), Warning: warning}
			}
		}
		return Outcome{Status: GO, Value: "not firing"}
	}
	return c
}

// identity keeps the labels that say which thing an ALERTS series is
// about (a pool, a table, a pod), dropping those every alert carries.
func identity(m pmodel.Metric) pmodel.Metric {
	out := pmodel.Metric{}
	for k, v := range m {
		if slices.Contains(spec.IdentityLabels, string(k)) {
			out[k] = v
		}
	}
	return out
}
