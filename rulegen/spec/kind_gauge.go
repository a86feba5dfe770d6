package spec

import "strings"

// gaugeKind: a function over a selector.
type gaugeKind struct{}

var functions = []string{"max", "min", "avg", "sum", "max_abs", "rate", "deriv", "mean"}

func (gaugeKind) keys() []string {
	return []string{"metric", "function", "by", "guard", "present", "per", "threshold", "op"}
}

// slope says whether the gauge's function is a rate of change, which
// takes per.
func slope(sig *Signal) bool { return sig.Function == "rate" || sig.Function == "deriv" }

func (gaugeKind) setDefaults(sig *Signal) {
	if sig.Function == "" {
		sig.Function = "max"
	}
	if sig.Per == "" && slope(sig) {
		sig.Per = "second"
	}
	if sig.Unit != "" {
		return
	}
	def := "none"
	if sig.Threshold != nil {
		switch sig.Threshold.Kind {
		case Seconds:
			def = "seconds"
		case Percent:
			def = "ratio"
		}
	}
	if slope(sig) && def == "none" {
		// A slope of a ratio or of seconds keeps its unit and reads
		// "20%/h"; a plain number reads "0.8/s".
		if !oneOf(sig.Per, pers) {
			return // the per is wrong, and said so
		}
		def = "per_" + sig.Per
	}
	sig.Unit = def
}

func (gaugeKind) validate(v *validator, path string, sig *Signal) {
	v.selector(path+".metric", &sig.Metric, true)
	v.present(path, sig)
	if !oneOf(sig.Function, functions) {
		v.errorf(path+".function", "unknown function %q (want %s)", sig.Function, strings.Join(functions, ", "))
	}
	v.per(path, sig, slope(sig))
	v.by(path, sig)
	v.guard(path, sig)
	v.threshold(path, sig, nil)
}

func (gaugeKind) thresholdProblem(*Signal, Quantity) string { return "" }

func (gaugeKind) comparesTracks(*Signal) bool { return false }

func (gaugeKind) budgeted(*Signal) bool { return false }
