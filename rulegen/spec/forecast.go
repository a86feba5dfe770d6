package spec

// Forecast predicts when a signal reaches a limit: the alert fires while
// the linear trend of the signal over Window reaches Limit within Within.
// A slow leak (a sequence filling up, transaction IDs ageing, a pool
// growing busier week by week) is then a ticket days ahead instead of a
// page at the threshold.
type Forecast struct {
	// Limit is the value the signal must not reach, in its unit (100% for a
	// ratio that ends at its range).
	Limit *Quantity `yaml:"limit"`
	// Window is the range the trend is fitted over (default 6h): long
	// enough to ride out a daily cycle's noise, short enough to follow a
	// change of pace.
	Window Duration `yaml:"window"`
	// Within is how far ahead a crossing fires the alert.
	Within Duration `yaml:"within"`
	// Method is deriv (default: the signal's current value moved along
	// the fitted slope) or predict_linear (the fitted line's own value
	// now, which a single outlier sample moves less).
	Method string `yaml:"method"`
}

// Forecast methods.
const (
	ForecastDeriv         = "deriv"
	ForecastPredictLinear = "predict_linear"
)

// forecastFunctions are the gauge functions whose recorded value is the
// signal itself, so a range over the recording is the signal's history.
var forecastFunctions = []string{"max", "min", "avg", "sum", "max_abs"}

func forecastDefaults(f *Forecast) {
	if f.Window.IsZero() {
		f.Window = MustDuration("6h")
	}
	if f.Method == "" {
		f.Method = ForecastDeriv
	}
}

func (v *validator) forecast(path string, t *Trigger) {
	f := t.Forecast
	fp := path + ".forecast"
	switch {
	case len(t.All) > 0:
		v.errorf(fp, "a forecast follows one signal, not all:")
		return
	case t.Absent:
		v.errorf(fp, "a forecast needs the signal's series; it cannot be absent")
		return
	case t.Threshold != nil:
		v.errorf(path+".threshold", "a forecast fires on forecast.limit, not on a threshold")
	}
	if t.Action == ActionRollback {
		v.errorf(path+".action", "a forecast predicts a crossing days ahead; it cannot roll a release back (use page or ticket)")
	}
	if !oneOf(f.Method, []string{ForecastDeriv, ForecastPredictLinear}) {
		v.errorf(fp+".method", "unknown method %q (want deriv or predict_linear)", f.Method)
	}
	if f.Within.IsZero() {
		v.missing(fp, "within")
	} else if f.Within.Duration <= 0 {
		v.errorf(fp+".within", "must be positive")
	} else if v.atMost(fp+".within", f.Within, "30d") && f.Within.Duration < t.For.Duration+MustDuration("1h").Duration {
		// After `for` the alert must still be ahead of the crossing.
		v.errorf(fp+".within", "%s must be at least an hour longer than the trigger's for (%s)", f.Within.Text, t.For.Text)
	}
	if f.Window.Duration <= 0 {
		v.errorf(fp+".window", "must be positive")
	} else {
		v.atMost(fp+".window", f.Window, "7d")
	}
	sig := v.s.SignalByName(t.Signal)
	if sig == nil {
		return // reported with the signal
	}
	if sig.Kind != KindGauge {
		v.errorf(fp, "a forecast follows a gauge signal's own value; %s is a %s signal", sig.Name, sig.Kind)
		return
	}
	if !oneOf(sig.Function, forecastFunctions) {
		v.errorf(fp, "a forecast follows a gauge signal's own value (function max, min, avg, sum or max_abs); %s has function %s", sig.Name, sig.Function)
		return
	}
	if f.Limit == nil {
		v.missing(fp, "limit")
		return
	}
	if k, ok := signalKinds[sig.Kind]; ok {
		if msg := k.thresholdProblem(sig, *f.Limit); msg != "" {
			v.errorf(fp+".limit", "%s", msg)
		}
	}
}

// ForecastRising reports whether the signal is unhealthy upwards, so its
// forecast looks for a rising trend (a falling one otherwise).
func ForecastRising(sig *Signal) bool { return sig.Op == "" || sig.Op == "<=" || sig.Op == "<" }
