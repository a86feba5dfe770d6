package spec

import (
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// setKeys returns the kind-specific keys that are set on a signal, read
// before defaults are applied: a key applies to some kinds only.
func setKeys(sig *Signal) map[string]bool {
	return map[string]bool{
		"errors": sig.Errors != "", "total": sig.Total != "",
		"histogram": sig.Histogram != "", "quantile": sig.Quantile != nil, "bucket": sig.Bucket,
		"metric": sig.Metric != "", "function": sig.Function != "", "by": sig.By != nil, "guard": sig.Guard != nil,
		"present": sig.Present != "",
		"counter": sig.Counter != "", "per": sig.Per != "",
		"baseline_window": !sig.BaselineWindow.IsZero(), "baseline_offset": !sig.BaselineOffset.IsZero(),
		"tolerance": sig.Tolerance != nil,
		"threshold": sig.Threshold != nil, "op": sig.Op != "", "min_rate": sig.MinRate != nil,
	}
}

// signalDefaults fills what a signal leaves out: the common keys, then its
// kind's.
func signalDefaults(sig *Signal) {
	if sig.Window.IsZero() {
		sig.Window = MustDuration("5m")
	}
	if sig.Op == "" {
		sig.Op = "<="
	}
	if k, ok := signalKinds[sig.Kind]; ok {
		k.setDefaults(sig)
	}
}

// signal checks one signal; set are the kind-specific keys the spec wrote.
func (v *validator) signal(path string, sig *Signal, set map[string]bool) {
	v.noTemplate(path+".description", sig.Description)
	if !signalRE.MatchString(sig.Name) {
		if sig.Name == "" {
			v.missing(path, "name")
		} else {
			v.errorf(path+".name", "invalid signal name %q (lower case letters, digits and _, starting with a letter)", sig.Name)
		}
	}
	kind, ok := signalKinds[sig.Kind]
	if !ok {
		if sig.Kind == "" {
			v.missing(path, "kind")
		} else {
			v.errorf(path+".kind", "unknown kind %q (want %s)", sig.Kind, kindList())
		}
		return
	}
	for _, k := range sortedKeys(set) {
		if set[k] && !oneOf(k, kind.keys()) {
			v.errorf(path+"."+k, "key %q does not apply to a %s signal", k, sig.Kind)
		}
	}
	if sig.Window.Duration <= 0 {
		v.errorf(path+".window", "window must be positive")
	} else {
		v.atMost(path+".window", sig.Window, "1d")
	}
	if !oneOf(sig.Op, ops) {
		v.errorf(path+".op", "unknown op %q (want <=, <, >= or >)", sig.Op)
	}
	if sig.MinRate != nil && sig.MinRate.Rat().Sign() < 0 {
		v.errorf(path+".min_rate", "min_rate must not be negative")
	}
	kind.validate(v, path, sig)
	v.unit(path, sig)
}

// upperOp restricts ratios and latencies to upper bounds: an error ratio or
// a latency that must stay above a value is not a health signal.
func (v *validator) upperOp(path string, sig *Signal) {
	if sig.Op != "<=" && sig.Op != "<" {
		v.errorf(path+".op", "a %s signal is healthy below its threshold: op must be <= or <", sig.Kind)
	}
}

// unit checks a unit the spec sets; a signal without one has its kind's
// default.
func (v *validator) unit(path string, sig *Signal) {
	if sig.Unit != "" && !oneOf(sig.Unit, units) {
		v.errorf(path+".unit", "unknown unit %q (want %s)", sig.Unit, strings.Join(units, ", "))
	}
}

// per checks the time unit of a rate threshold; applies says whether the
// signal's function takes one.
func (v *validator) per(path string, sig *Signal, applies bool) {
	switch {
	case sig.Per != "" && !applies:
		v.errorf(path+".per", "per applies only to rate and deriv functions")
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

// present checks a signal's present selector. up is refused: it has a
// sample, 0, while its target cannot be scraped, so a check would read 0
// for an application that is down.
func (v *validator) present(path string, sig *Signal) {
	v.selector(path+".present", &sig.Present, false)
	if sig.Present == "" {
		return
	}
	if e, err := Parser.ParseExpr(sig.Present); err == nil {
		if vs, ok := e.(*parser.VectorSelector); ok && vs.Name == "up" {
			v.errorf(path+".present", "present must be a series the source itself exports (such as process_start_time_seconds): up exists, as 0, while the target is down, and would read a dead source as healthy")
		}
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
		v.missing(path, "on", " (the labels that join the guard to the signal's series)")
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
		v.missing(path, "expr")
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
		v.missing(path, "threshold")
		return
	}
	if check != nil {
		if msg := check(*sig.Threshold); msg != "" {
			v.errorf(path+".threshold", "%s", msg)
		}
	}
}
