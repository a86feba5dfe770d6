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
// budget; a missing recording is UNKNOWN either way.
func sloBudgetCheck(o *spec.SLO) *Check {
	freeze := freezeBelow(o)
	c := &Check{Name: "slo:" + o.Name + ":budget", Required: freeze.Sign() > 0}
	if freeze.Sign() > 0 {
		c.Threshold = ">= " + percent(freeze) + " of the budget"
	} else {
		c.Threshold = "budget left (no freeze_below)"
	}
	record := model.BudgetRemainingRecord(o)
	c.run = func(ctx context.Context, e *env) Outcome {
		v, err := e.vector(ctx, record)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		if len(v) == 0 {
			return Outcome{Status: Unknown, Value: "no data", Detail: fmt.Sprintf("no series %s: the remaining budget is not recorded (rules generated before the error-budget rules, or not loaded)", record)}
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

func percent(r *big.Rat) string {
	return spec.FormatRat(new(big.Rat).Mul(r, big.NewRat(100, 1))) + "%"
}
