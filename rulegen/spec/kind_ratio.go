package spec

// ratioKind: errors ÷ total, both counter selectors.
type ratioKind struct{}

func (ratioKind) keys() []string { return []string{"errors", "total", "threshold", "op", "min_rate"} }

func (ratioKind) setDefaults(sig *Signal) {
	if sig.Unit == "" {
		sig.Unit = "ratio"
	}
}

func (ratioKind) validate(v *validator, path string, sig *Signal) {
	v.upperOp(path, sig)
	v.selector(path+".errors", &sig.Errors, true)
	v.selector(path+".total", &sig.Total, true)
	v.threshold(path, sig, ratioProblem)
}

func (ratioKind) thresholdProblem(_ *Signal, thr Quantity) string { return ratioProblem(thr) }

func (ratioKind) comparesTracks(*Signal) bool { return true }

func (ratioKind) budgeted(*Signal) bool { return true }
