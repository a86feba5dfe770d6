package spec

// baselineKind: a counter's rate against its own rate over an earlier,
// longer window.
type baselineKind struct{}

func (baselineKind) keys() []string {
	return []string{"counter", "baseline_window", "baseline_offset", "tolerance", "min_rate", "present"}
}

func (baselineKind) setDefaults(sig *Signal) {
	if sig.BaselineOffset.IsZero() {
		// The baseline ends where the current window starts, so the
		// change does not raise its own baseline.
		sig.BaselineOffset = Duration{Duration: sig.Window.Duration, Text: sig.Window.String()}
	}
	if sig.Unit == "" {
		sig.Unit = "per_second"
	}
}

func (baselineKind) validate(v *validator, path string, sig *Signal) {
	v.selector(path+".counter", &sig.Counter, true)
	v.present(path, sig)
	if sig.BaselineWindow.IsZero() {
		v.missing(path, "baseline_window")
	} else if v.atMost(path+".baseline_window", sig.BaselineWindow, "7d") && sig.BaselineWindow.Duration <= sig.Window.Duration {
		v.errorf(path+".baseline_window", "baseline_window (%s) must be longer than window (%s)", sig.BaselineWindow.Text, sig.Window.String())
	}
	if !v.written(path + ".baseline_offset") {
		// The default, the window, is valid.
	} else if sig.BaselineOffset.Duration < sig.Window.Duration {
		v.errorf(path+".baseline_offset", "baseline_offset (%s) must be at least window (%s): a shorter offset overlaps the current window", sig.BaselineOffset.Text, sig.Window.String())
	} else {
		v.atMost(path+".baseline_offset", sig.BaselineOffset, "7d")
	}
	if sig.Tolerance == nil {
		v.missing(path, "tolerance")
	} else if sig.Tolerance.Kind != Percent || sig.Tolerance.Rat().Sign() < 0 {
		v.errorf(path+".tolerance", "tolerance is a non-negative percentage such as 10%%, got %s", sig.Tolerance.Text)
	}
}

func (baselineKind) thresholdProblem(*Signal, Quantity) string {
	return "a baseline signal has a tolerance, not a threshold"
}

func (baselineKind) comparesTracks(*Signal) bool { return false }

func (baselineKind) budgeted(*Signal) bool { return false }
