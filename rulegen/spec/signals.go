package spec

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// kindKeys lists the keys each signal kind accepts besides the common ones.
var kindKeys = map[string][]string{
	KindRatio:    {"errors", "total", "threshold", "op", "min_rate"},
	KindLatency:  {"histogram", "quantile", "bucket", "guard", "threshold", "op", "min_rate"},
	KindGauge:    {"metric", "function", "by", "guard", "per", "threshold", "op"},
	KindRate:     {"counter", "per", "by", "threshold", "op"},
	KindBaseline: {"counter", "baseline_window", "baseline_offset", "tolerance", "min_rate"},
}

// setKeys returns the kind-specific keys that are set on a signal.
func setKeys(sig *Signal) map[string]bool {
	return map[string]bool{
		"errors": sig.Errors != "", "total": sig.Total != "",
		"histogram": sig.Histogram != "", "quantile": sig.Quantile != nil, "bucket": sig.Bucket,
		"metric": sig.Metric != "", "function": sig.Function != "", "by": sig.By != nil, "guard": sig.Guard != nil,
		"counter": sig.Counter != "", "per": sig.Per != "",
		"baseline_window": !sig.BaselineWindow.IsZero(), "baseline_offset": !sig.BaselineOffset.IsZero(),
		"tolerance": sig.Tolerance != nil,
		"threshold": sig.Threshold != nil, "op": sig.Op != "", "min_rate": sig.MinRate != nil,
	}
}

func (v *validator) signal(path string, sig *Signal) {
	v.plain(path+".description", sig.Description)
	if !signalRE.MatchString(sig.Name) {
		if sig.Name == "" {
			v.errorf(path, "missing key %q", "name")
		} else {
			v.errorf(path+".name", "invalid signal name %q (lower case letters, digits and _, starting with a letter)", sig.Name)
		}
	}
	allowed, ok := kindKeys[sig.Kind]
	if !ok {
		if sig.Kind == "" {
			v.errorf(path, "missing key %q", "kind")
		} else {
			v.errorf(path+".kind", "unknown kind %q (want ratio, latency, gauge, rate or baseline)", sig.Kind)
		}
		return
	}
	set := setKeys(sig)
	for _, k := range sortedKeys(set) {
		if set[k] && !oneOf(k, allowed) {
			v.errorf(path+"."+k, "key %q does not apply to a %s signal", k, sig.Kind)
		}
	}
	if sig.Window.IsZero() {
		sig.Window = MustDuration("5m")
	} else if sig.Window.Duration <= 0 {
		v.errorf(path+".window", "window must be positive")
	} else {
		v.atMost(path+".window", sig.Window, "1d")
	}
	if sig.Op == "" {
		sig.Op = "<="
	} else if !oneOf(sig.Op, ops) {
		v.errorf(path+".op", "unknown op %q (want <=, <, >= or >)", sig.Op)
	}
	if sig.MinRate != nil && sig.MinRate.Rat().Sign() < 0 {
		v.errorf(path+".min_rate", "min_rate must not be negative")
	}
	switch sig.Kind {
	case KindRatio:
		v.upperOp(path, sig)
		v.selector(path+".errors", &sig.Errors, true)
		v.selector(path+".total", &sig.Total, true)
		v.threshold(path, sig, func(q Quantity) string { return ratioProblem(q) })
		v.defaultUnit(path, sig, "ratio")
	case KindLatency:
		v.upperOp(path, sig)
		v.selector(path+".histogram", &sig.Histogram, true)
		if sig.Quantile == nil {
			v.errorf(path, "missing key %q", "quantile")
		} else if r := sig.Quantile.Rat(); r.Sign() <= 0 || r.Cmp(big.NewRat(1, 1)) >= 0 {
			v.errorf(path+".quantile", "quantile must be between 0 and 1 (exclusive), got %s", sig.Quantile.Text)
		}
		v.threshold(path, sig, func(q Quantity) string {
			if q.Kind == Percent {
				return "a latency threshold is a duration such as 200ms"
			}
			if q.Rat().Sign() <= 0 {
				return "a latency threshold must be positive"
			}
			return ""
		})
		v.guard(path, sig)
		v.defaultUnit(path, sig, "seconds")
	case KindGauge:
		v.selector(path+".metric", &sig.Metric, true)
		if sig.Function == "" {
			sig.Function = "max"
		} else if !oneOf(sig.Function, functions) {
			v.errorf(path+".function", "unknown function %q (want %s)", sig.Function, strings.Join(functions, ", "))
		}
		v.per(path, sig, sig.Function == "rate" || sig.Function == "deriv", "second")
		v.by(path, sig)
		v.guard(path, sig)
		v.threshold(path, sig, nil)
		def := "none"
		if sig.Threshold != nil {
			switch sig.Threshold.Kind {
			case Seconds:
				def = "seconds"
			case Percent:
				def = "ratio"
			}
		}
		if (sig.Function == "rate" || sig.Function == "deriv") && def == "none" {
			// A slope of a ratio or of seconds keeps its unit and reads
			// "20%/h"; a plain number reads "0.8/s".
			def = "per_" + sig.Per
		}
		v.defaultUnit(path, sig, def)
	case KindRate:
		v.selector(path+".counter", &sig.Counter, true)
		v.per(path, sig, true, "minute")
		v.by(path, sig)
		v.threshold(path, sig, func(q Quantity) string {
			if q.Kind != Number || q.Rat().Sign() < 0 {
				return "a rate threshold is a non-negative number of events per " + sig.Per
			}
			return ""
		})
		v.defaultUnit(path, sig, "per_"+sig.Per)
	case KindBaseline:
		v.selector(path+".counter", &sig.Counter, true)
		if sig.BaselineWindow.IsZero() {
			v.errorf(path, "missing key %q", "baseline_window")
		} else if v.atMost(path+".baseline_window", sig.BaselineWindow, "7d") && sig.BaselineWindow.Duration <= sig.Window.Duration {
			v.errorf(path+".baseline_window", "baseline_window (%s) must be longer than window (%s)", sig.BaselineWindow.Text, sig.Window.String())
		}
		if sig.BaselineOffset.IsZero() {
			// The baseline ends where the current window starts, so the
			// change does not raise its own baseline.
			sig.BaselineOffset = Duration{Duration: sig.Window.Duration, Text: sig.Window.String()}
		} else if sig.BaselineOffset.Duration < sig.Window.Duration {
			v.errorf(path+".baseline_offset", "baseline_offset (%s) must be at least window (%s): a shorter offset overlaps the current window", sig.BaselineOffset.Text, sig.Window.String())
		} else {
			v.atMost(path+".baseline_offset", sig.BaselineOffset, "7d")
		}
		if sig.Tolerance == nil {
			v.errorf(path, "missing key %q", "tolerance")
		} else if sig.Tolerance.Kind != Percent || sig.Tolerance.Rat().Sign() < 0 {
			v.errorf(path+".tolerance", "tolerance is a non-negative percentage such as 10%%, got %s", sig.Tolerance.Text)
		}
		sig.Op = "<="
		v.defaultUnit(path, sig, "per_second")
	}
}

// upperOp restricts ratios and latencies to upper bounds: an error ratio or
// a latency that must stay above a value is not a health signal.
func (v *validator) upperOp(path string, sig *Signal) {
	if sig.Op != "<=" && sig.Op != "<" {
		v.errorf(path+".op", "a %s signal is healthy below its threshold: op must be <= or <", sig.Kind)
	}
}

func (v *validator) defaultUnit(path string, sig *Signal, def string) {
	if sig.Unit == "" {
		sig.Unit = def
	} else if !oneOf(sig.Unit, units) {
		v.errorf(path+".unit", "unknown unit %q (want %s)", sig.Unit, strings.Join(units, ", "))
	}
}

func (v *validator) per(path string, sig *Signal, applies bool, def string) {
	switch {
	case sig.Per != "" && !applies:
		v.errorf(path+".per", "per applies only to rate and deriv functions")
	case sig.Per == "" && applies:
		sig.Per = def
	case sig.Per != "" && !oneOf(sig.Per, pers):
		v.errorf(path+".per", "unknown per %q (want second, minute or hour)", sig.Per)
	}
}

func (v *validator) by(path string, sig *Signal) {
	seen := map[string]bool{}
	for i, l := range sig.By {
		p := path + ".by[" + strconv.Itoa(i) + "]"
		if !labelNameRE.MatchString(l) || l == "le" {
			v.errorf(p, "invalid label name %q", l)
		} else if oneOf(l, ReservedLabels) {
			v.errorf(p, "label %q is set by rulegen", l)
		} else if seen[l] {
			v.errorf(p, "duplicate label %q", l)
		}
		seen[l] = true
	}
}

// guard checks a gauge or latency signal's guard: an instant-vector
// expression over at least one series, joined on valid labels. A mean is a
// ratio of two aggregated rates and has no per-series step to guard.
func (v *validator) guard(path string, sig *Signal) {
	g := sig.Guard
	if g == nil {
		return
	}
	path += ".guard"
	if sig.Function == "mean" {
		v.errorf(path, "guard does not apply to function mean")
		return
	}
	if len(g.On) == 0 {
		v.errorf(path, "missing key %q (the labels that join the guard to the signal's series)", "on")
	}
	seen := map[string]bool{}
	for i, l := range g.On {
		p := path + ".on[" + strconv.Itoa(i) + "]"
		if !labelNameRE.MatchString(l) || l == "le" {
			v.errorf(p, "invalid label name %q", l)
		} else if seen[l] {
			v.errorf(p, "duplicate label %q", l)
		}
		seen[l] = true
	}
	if g.Expr == "" {
		v.errorf(path, "missing key %q", "expr")
		return
	}
	s, ok := v.expand(path+".expr", g.Expr)
	if !ok {
		return
	}
	s = strings.TrimSpace(s)
	expr, err := Parser.ParseExpr(s)
	if err != nil {
		v.errorf(path+".expr", "invalid PromQL in %q: %s", s, promqlMessage(err))
		return
	}
	if expr.Type() != parser.ValueTypeVector {
		v.errorf(path+".expr", "a guard is an instant-vector expression such as time() - process_start_time_seconds > 1800, got a %s %q", expr.Type(), s)
		return
	}
	if len(parser.ExtractSelectors(expr)) == 0 {
		v.errorf(path+".expr", "a guard must select series; %q has no series selector", s)
		return
	}
	g.Expr = s
}

func (v *validator) threshold(path string, sig *Signal, check func(Quantity) string) {
	if sig.Threshold == nil {
		v.errorf(path, "missing key %q", "threshold")
		return
	}
	if check != nil {
		if msg := check(*sig.Threshold); msg != "" {
			v.errorf(path+".threshold", "%s", msg)
		}
	}
}
