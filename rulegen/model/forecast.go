package model

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/redline-sre/redline/rulegen/spec"
)

// ForecastCheck describes a forecast alert for test synthesis.
type ForecastCheck struct {
	Signal *Signal
	// Limit is the value the trend must not reach; Rising says it is
	// approached from below (the signal is unhealthy upwards).
	Limit  spec.Quantity
	Rising bool
	Window spec.Duration
	Within spec.Duration
	Method string
}

// addForecast adds an alert that fires while the signal's linear trend
// over the window reaches the limit within the stated time. Its value is
// the time left, in whole seconds: (limit - now) / slope, where now is the
// recorded value (deriv) or the fitted line's value at this instant
// (predict_linear). A flat or receding trend has no slope towards the
// limit and is left out, so it never fires; a series already past the
// limit is left to the threshold triggers.
func (m *Model) addForecast(t *spec.Trigger) error {
	sig := m.SignalByName(t.Signal)
	f := t.Forecast
	s := sig.Value
	if strings.ContainsAny(s, " ()") {
		return fmt.Errorf("trigger %s: a forecast needs a recorded series, signal %s's value is %q", t.Name, sig.Name, s)
	}
	rising := spec.ForecastRising(sig.Signal)
	limit := spec.FormatRat(f.Limit.Rat())
	rng := s + "[" + f.Window.Text + "]"
	now := s
	if f.Method == spec.ForecastPredictLinear {
		now = "predict_linear(" + rng + ", 0)"
	}
	toward, before := ">", "<"
	if !rising {
		toward, before = "<", ">"
	}
	within := strconv.FormatFloat(f.Within.Seconds(), 'f', -1, 64)
	expr := fmt.Sprintf("round((%s - %s) / deriv(%s)) < %s\nand deriv(%s) %s 0\nand %s %s %s",
		limit, now, rng, within, rng, toward, s, before, limit)

	a := &Alert{
		Name: t.Name, Expr: expr, For: t.For,
		Forecast: &ForecastCheck{Signal: sig, Limit: *f.Limit, Rising: rising, Window: f.Window, Within: f.Within, Method: f.Method},
	}
	a.SeriesLabels = sortedCopy(sig.By)
	a.Labels = m.baseLabels(t.Severity, t.Action, sig.Name)
	for k, v := range t.Labels {
		a.Labels[k] = v
	}
	lim := sig.ThresholdText(*f.Limit)
	trend := fmt.Sprintf("%s over %s", f.Method, f.Window.Text)
	summary := fmt.Sprintf("%s: %s reaches %s in {{ $value | humanizeDuration }} (forecast: %s)", t.Name, sig.Subject(), lim, trend)
	desc := strings.TrimSuffix(strings.TrimSpace(t.Description), ".")
	if desc != "" {
		desc += ". "
	}
	desc += fmt.Sprintf("By %s, %s reaches %s in {{ $value | humanizeDuration }}; the trigger fires when that is less than %s for %s.",
		trend, sig.Subject(), lim, f.Within.Text, t.For.String())
	a.Annotations = map[string]string{"summary": summary, "description": desc}
	m.Alerts = append(m.Alerts, a)
	return nil
}
