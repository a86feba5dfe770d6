package spec

import (
	"strconv"
)

func (v *validator) slo(path string, o *SLO) {
	v.noTemplate(path+".description", o.Description)
	if !signalRE.MatchString(o.Name) {
		if o.Name == "" {
			v.missing(path, "name")
		} else {
			v.errorf(path+".name", "invalid SLO name %q (lower case letters, digits and _)", o.Name)
		}
	}
	if v.written(path+".alert") && !alertNameRE.MatchString(o.Alert) {
		v.errorf(path+".alert", "invalid alert name %q", o.Alert)
	}
	if o.Signal == "" {
		v.missing(path, "signal")
	} else if sig := v.s.SignalByName(o.Signal); sig == nil {
		v.errorf(path+".signal", "unknown signal %q", o.Signal)
	} else if !sig.Budgeted() {
		v.errorf(path+".signal", "signal %q is a %s signal; an SLO needs a ratio signal or a latency signal with bucket: true", o.Signal, sig.Kind)
	}
	if o.Objective == nil {
		v.missing(path, "objective")
	} else if msg := objectiveProblem(*o.Objective, o.Windows); msg != "" {
		v.errorf(path+".objective", "%s", msg)
	}
	if o.Period.Duration <= 0 {
		v.errorf(path+".period", "period must be positive")
	} else {
		v.atMost(path+".period", o.Period, "365d")
	}
	if v.written(path+".min_rate") && o.MinRate != nil && o.MinRate.Rat().Sign() < 0 {
		v.errorf(path+".min_rate", "min_rate must not be negative")
	}
	if len(o.Windows) == 0 {
		v.errorf(path+".windows", "at least one burn-rate window is required")
	}
	for i := range o.Windows {
		w := &o.Windows[i]
		wp := path + ".windows[" + strconv.Itoa(i) + "]"
		if w.Long.IsZero() || w.Short.IsZero() {
			v.errorf(wp, "a burn-rate window needs long and short")
		} else if w.Short.Duration <= 0 || w.Short.Duration >= w.Long.Duration {
			v.errorf(wp+".short", "short window (%s) must be positive and shorter than the long window (%s)", w.Short.Text, w.Long.Text)
		} else if !v.atMost(wp+".long", w.Long, "7d") {
		} else if w.Long.Duration > o.Period.Duration {
			v.errorf(wp+".long", "long window (%s) is longer than the period (%s)", w.Long.Text, o.Period.String())
		}
		if w.Factor == nil {
			v.missing(wp, "factor")
		} else if w.Factor.Kind != Number || w.Factor.Rat().Sign() <= 0 {
			v.errorf(wp+".factor", "factor must be a positive number, got %s", w.Factor.Text)
		}
		if !oneOf(w.Severity, severities) {
			v.errorf(wp+".severity", "unknown severity %q (want critical, warning or info)", w.Severity)
		}
		if !oneOf(w.Action, actions) {
			v.errorf(wp+".action", "unknown action %q (want rollback, page or ticket)", w.Action)
		}
		if v.written(wp + ".for") {
			v.atMost(wp+".for", w.For, "1d")
		}
	}
	for i := range o.Windows {
		for j := range i {
			if o.Windows[i].Long.Duration == o.Windows[j].Long.Duration && o.Windows[i].Short.Duration == o.Windows[j].Short.Duration {
				v.errorf(path+".windows["+strconv.Itoa(i)+"]", "duplicate burn-rate window %s/%s", o.Windows[i].Long.Text, o.Windows[i].Short.Text)
			}
		}
	}
	v.sloBudget(path, o)
}

// DefaultBurnWindows is the multi-window multi-burn-rate table used when an
// SLO lists none: 2% of a 28-day budget in 1h, 5% in 6h, 10% in 24h.
func DefaultBurnWindows() []BurnWindow {
	w := func(long, short, factor, severity, action, forDur string) BurnWindow {
		f, _ := ParseQuantity(factor)
		return BurnWindow{Long: MustDuration(long), Short: MustDuration(short), Factor: &f, Severity: severity, Action: action, For: MustDuration(forDur)}
	}
	return []BurnWindow{
		w("1h", "5m", "14.4", "critical", ActionPage, "2m"),
		w("6h", "30m", "6", "critical", ActionPage, "15m"),
		w("24h", "2h", "3", "warning", ActionTicket, "1h"),
	}
}
