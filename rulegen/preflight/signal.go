package preflight

import (
	"context"
	"fmt"
	"math"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// signalCheck asks whether a signal can be judged at all: its source
// series exist, its recording rules produce a value, its traffic is at or
// above min_rate, a bucket-read latency threshold is a bucket bound, and a
// baseline signal has its baseline. Triggers on a signal that fails this
// are UNKNOWN, not GO: a silent condition on no data is not healthy.
//
// An entry of the spec's preflight: section may change the check (p, nil
// when there is none): no_data: go, or required: false.
func signalCheck(sig *model.Signal, p *spec.PreflightCheck) *Check {
	c := &Check{Name: "signal:" + sig.Name, Required: p == nil || p.IsRequired(), signal: sig.Name}
	noDataGo := ""
	if p != nil && p.NoData == spec.NoDataGo {
		noDataGo = p.Description
	}
	if sig.MinRate != nil && hasTrafficGuard(sig) {
		c.Threshold = fmt.Sprintf("series present, traffic >= %s/s", sig.MinRate.String())
	} else {
		c.Threshold = "series present"
	}
	c.run = func(ctx context.Context, e *env) Outcome {
		src := sig.Source()
		n, err := e.vector(ctx, "count("+src+")")
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		if len(n) == 0 {
			if noDataGo != "" {
				return Outcome{Status: GO, Value: "no series", Detail: fmt.Sprintf("no series matches %s; the spec's preflight: section says that is healthy: %s", src, noDataGo)}
			}
			return Outcome{Status: Unknown, Value: "no series", Detail: fmt.Sprintf("no series matches %s: every trigger on %s is silent without data, which is not healthy", src, sig.Name)}
		}
		series := fmt.Sprintf("%s series", formatValue(float64(n[0].Value)))
		if sig.Kind == spec.KindLatency && sig.Bucket {
			if out, bad := bucketBound(ctx, e, sig); bad {
				return out
			}
		}
		if sig.MinRate != nil && hasTrafficGuard(sig) {
			tr, err := e.vector(ctx, sig.Traffic)
			if err != nil {
				return Outcome{Status: Unknown, Value: series, Detail: err.Error()}
			}
			if len(tr) == 0 {
				if sig.Guard != nil {
					return Outcome{Status: Unknown, Value: series, Detail: fmt.Sprintf("the guard (%s) leaves none of the series of %s: %s reads nothing it trusts", sig.Guard.Expr, src, sig.Name)}
				}
				return Outcome{Status: Unknown, Value: series, Detail: fmt.Sprintf("%s has series but the recording %s has none: are the generated rules loaded?", src, sig.Traffic)}
			}
			rate := float64(tr[0].Value)
			min, _ := sig.MinRate.Rat().Float64()
			if math.IsNaN(rate) || rate < min {
				return Outcome{Status: Unknown, Value: formatValue(rate) + "/s", Detail: fmt.Sprintf("traffic %s/s is below min_rate %s/s: %s neither fires nor counts as healthy", formatValue(rate), sig.MinRate.String(), sig.Name)}
			}
			series = formatValue(rate) + "/s"
		}
		if sig.Kind == spec.KindBaseline {
			b, err := e.vector(ctx, sig.Baseline)
			if err != nil {
				return Outcome{Status: Unknown, Value: series, Detail: err.Error()}
			}
			if len(b) == 0 {
				return Outcome{Status: Unknown, Value: series, Detail: fmt.Sprintf("no baseline: %s has no value (it reads %s ago), so %s cannot be compared", sig.Baseline, sig.BaselineOffset.String(), sig.Name)}
			}
		}
		return Outcome{Status: GO, Value: series}
	}
	if !c.Required {
		inner := c.run
		c.run = func(ctx context.Context, e *env) Outcome {
			out := inner(ctx, e)
			if out.Status != GO {
				out.Detail += " (a warning: " + p.Description + ")"
			}
			return out
		}
	}
	return c
}

// hasTrafficGuard says whether min_rate guards the signal (ratio, latency
// and baseline signals; the spec rejects it elsewhere).
func hasTrafficGuard(sig *model.Signal) bool {
	return sig.Kind == spec.KindRatio || sig.Kind == spec.KindLatency || sig.Kind == spec.KindBaseline
}

// bucketBound checks that a latency signal read from a bucket has a
// bucket whose le is its threshold: otherwise the good-requests recording
// is empty and the trigger can never fire, while the generated promtool
// tests pass on the buckets they build themselves.
func bucketBound(ctx context.Context, e *env, sig *model.Signal) (Outcome, bool) {
	h := sig.Histogram
	le := model.Selector(h, h.Name+"_bucket", model.LeMatcher(sig.Threshold.String()))
	v, err := e.vector(ctx, "count("+le+")")
	if err != nil {
		return Outcome{Status: Unknown, Detail: err.Error()}, true
	}
	if len(v) == 0 {
		return Outcome{Status: NoGo, Value: "no bucket le=" + sig.Threshold.String(), Detail: fmt.Sprintf(
			"%s has no bucket with le=%s, the threshold of %s (bucket: true), so its trigger can never fire: add %s to the histogram's buckets in the application, or set bucket: false to use the interpolated quantile",
			h.Name, sig.Threshold.String(), sig.Name, sig.Threshold.String())}, true
	}
	return Outcome{}, false
}
