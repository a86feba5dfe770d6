package spec

// rateKind: the rate of a counter, per second, minute or hour.
type rateKind struct{}

func (rateKind) keys() []string {
	return []string{"counter", "per", "by", "present", "threshold", "op"}
}

func (rateKind) setDefaults(sig *Signal) {
	if sig.Per == "" {
		sig.Per = "minute"
	}
	if sig.Unit == "" && oneOf(sig.Per, pers) {
		sig.Unit = "per_" + sig.Per
	}
}

func (rateKind) validate(v *validator, path string, sig *Signal) {
	v.selector(path+".counter", &sig.Counter, true)
	v.present(path, sig)
	v.per(path, sig, true)
	v.by(path, sig)
	v.threshold(path, sig, func(q Quantity) string {
		if q.Kind != Number || q.Rat().Sign() < 0 {
			return "a rate threshold is a non-negative number of events per " + sig.Per
		}
		return ""
	})
}

func (rateKind) thresholdProblem(*Signal, Quantity) string { return "" }

func (rateKind) comparesTracks(*Signal) bool { return false }

func (rateKind) budgeted(*Signal) bool { return false }
