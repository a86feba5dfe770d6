package preflight

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// sloBurnCheck reads the ALERTS series of an SLO's burn-rate alert: a
// window pending or firing means the budget is burning too fast now.
func sloBurnCheck(m *model.Model, o *spec.SLO) *Check {
	c := &Check{Name: "slo:" + o.Name + ":burn", Required: true, Threshold: o.Alert + " not pending or firing", after: true}
	alerts := fmt.Sprintf("ALERTS{alertname=%q, service=%q, slo=%q}", o.Alert, m.Service, o.Name)
	c.run = func(ctx context.Context, e *env) Outcome {
		state, err := e.vector(ctx, alerts)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		var why []string
		for _, s := range state {
			why = append(why, fmt.Sprintf("%s (%s/%s windows) %s", o.Alert, s.Metric["long_window"], s.Metric["short_window"], s.Metric["alertstate"]))
		}
		if len(why) > 0 {
			return Outcome{Status: NoGo, Value: fmt.Sprintf("%d windows", len(state)), Detail: strings.Join(why, "; ")}
		}
		if out, ok := e.signals[o.Signal]; ok && out.Status != GO {
			return Outcome{Status: Unknown, Value: "not firing", Detail: fmt.Sprintf("silent, but signal %s cannot be judged (signal:%s: %s)", o.Signal, o.Signal, out.Value), Warning: out.Warning}
		}
		return Outcome{Status: GO, Value: "not firing"}
	}
	return c
}

// sloBudgetCheck compares an SLO's remaining error budget with its freeze
// threshold. Without a freeze threshold it is a warning that shows the
// budget; a missing recording is UNKNOWN either way, with the reason it is
// missing read from Prometheus (runs after the signal checks).
func sloBudgetCheck(m *model.Model, o *spec.SLO) *Check {
	freeze := freezeBelow(o)
	c := &Check{Name: "slo:" + o.Name + ":budget", Required: freeze.Sign() > 0, after: true}
	if freeze.Sign() > 0 {
		c.Threshold = ">= " + percent(freeze) + " of the budget"
	} else {
		c.Threshold = "budget left (no freeze_below)"
	}
	record := model.BudgetRemainingRecord(o)
	var budget *model.Budget
	for _, b := range m.Budgets {
		if b.SLO.Name == o.Name {
			budget = b
		}
	}
	c.run = func(ctx context.Context, e *env) Outcome {
		v, err := e.vector(ctx, record)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		if len(v) == 0 {
			return Outcome{Status: Unknown, Value: "no data", Detail: fmt.Sprintf("no series %s: the remaining budget is not recorded: %s", record, notRecorded(ctx, e, o, budget))}
		}
		left := float64(v[0].Value)
		if math.IsNaN(left) {
			return Outcome{Status: Unknown, Value: "NaN", Detail: record + " is NaN (no traffic over the period?)"}
		}
		val := formatValue(left*100) + "%"
		f, _ := freeze.Float64()
		switch {
		case freeze.Sign() > 0 && left < f:
			return Outcome{Status: NoGo, Value: val, Detail: fmt.Sprintf("%s of the error budget is left, below the freeze threshold %s: releases are frozen", val, percent(freeze))}
		case left <= 0:
			return Outcome{Status: NoGo, Value: val, Detail: "the error budget is spent"}
		}
		return Outcome{Status: GO, Value: val}
	}
	return c
}

// notRecorded finds why the remaining budget has no series, walking the
// recordings it is made from back to their source: the signal that cannot
// be judged, the error series that does not exist, the period's ratio
// that has no value, or — every input present — rules that are not the
// generated ones.
func notRecorded(ctx context.Context, e *env, o *spec.SLO, b *model.Budget) string {
	if out, ok := e.signals[o.Signal]; ok && out.Status != GO {
		return fmt.Sprintf("signal %s cannot be judged (signal:%s: %s)", o.Signal, o.Signal, out.Value)
	}
	if b == nil {
		return "the spec records no budget for this SLO"
	}
	sig := b.Signal
	if sig.Errors != nil {
		errs := model.Selector(sig.Errors, sig.Errors.Name)
		n, err := e.vector(ctx, "count("+errs+")")
		if err != nil {
			return err.Error()
		}
		if len(n) == 0 {
			return fmt.Sprintf("no series matches %s, the errors of %s: client libraries create an error series at the first error, and rules that do not read a missing error series as 0 record no error ratio, hence no budget (rules:loaded says whether the loaded rules are this spec's)", errs, sig.Name)
		}
	}
	if sig.Traffic != "" {
		n, err := e.vector(ctx, sig.Traffic)
		if err != nil {
			return err.Error()
		}
		if len(n) == 0 {
			return fmt.Sprintf("the recording %s of %s's traffic has no series: are the generated rules loaded (rules:loaded)?", sig.Traffic, sig.Name)
		}
	}
	n, err := e.vector(ctx, b.Ratio)
	if err != nil {
		return err.Error()
	}
	if len(n) == 0 {
		return fmt.Sprintf("the period's error ratio %s has no series though its inputs do: the rules that record it are not loaded (rules:loaded)", b.Ratio)
	}
	return fmt.Sprintf("%s has a value but %s has none: the loaded rules are not those this spec generates (rules:loaded)", b.Ratio, model.BudgetRemainingRecord(o))
}

func percent(r *big.Rat) string {
	return spec.FormatRat(new(big.Rat).Mul(r, big.NewRat(100, 1))) + "%"
}
