package model

import (
	"fmt"
	"math/big"

	"github.com/redline-sre/redline/rulegen/spec"
)

// baselineKind: a counter's rate against its rate over an earlier window.
type baselineKind struct{}

func (baselineKind) record(m *Model, sig *Signal) {
	w, counter := sig.Window.String(), sig.Signal.Counter
	sig.Value = m.record("service:"+sig.Name+":rate"+w, fmt.Sprintf("sum(rate(%s[%s]))", counter, w))
	sig.Traffic = sig.Value
	// The record name stays baseline_rate<window> for the default offset
	// (dashboards query it); another offset is part of the name.
	rec := "service:" + sig.Name + ":baseline_rate" + sig.BaselineWindow.String()
	if sig.BaselineOffset.Duration != sig.Window.Duration {
		rec += "_offset" + sig.BaselineOffset.String()
	}
	sig.Baseline = m.record(rec, fmt.Sprintf("sum(rate(%s[%s] offset %s))", counter, sig.BaselineWindow.String(), sig.BaselineOffset.String()))
	// A canary's pods rarely ran a day ago: its check compares with the
	// baseline track's past when the canary has none.
	m.fallBackToBaseline(sig.Baseline)
}

// condition: above (1 + tolerance) × the baseline; a baseline has no
// threshold.
func (baselineKind) condition(sig *Signal, _ spec.Quantity) string {
	factor := new(big.Rat).Add(big.NewRat(1, 1), sig.Tolerance.Rat())
	return fmt.Sprintf("%s > %s * %s", sig.Value, spec.FormatRat(factor), sig.Baseline) + minRateGuard(sig)
}

func (baselineKind) describe(sig *Signal, _ spec.Quantity) string {
	return fmt.Sprintf("%s is more than %s above its %s", sig.Name, sig.Tolerance.Text, sig.BaselineName())
}

func (baselineKind) catchesFirstIncrement(*Signal, spec.Quantity) bool { return false }

func (baselineKind) source(sig *Signal) string { return sig.Signal.Counter }

func (baselineKind) recordTracks(*Model, *Signal, *spec.Canary) (string, string) {
	panic("model: a baseline signal has no canary comparison")
}

func (baselineKind) errorRatio(*Signal, string) string {
	panic("model: a baseline signal has no error budget")
}

// data: the rate and its baseline where both exist. The low-traffic guard
// is on the counted events themselves, so a rate below it is known to be
// healthy whatever the baseline: 0, as is a counter not created yet while
// the present selector has series.
func (baselineKind) data(sig *Signal) string {
	d := fmt.Sprintf("(sum(%s) and on() sum(%s))", sig.Value, sig.Baseline)
	if sig.MinRate != nil {
		d += fmt.Sprintf(" or 0 * (sum(%s) < %s)", sig.Traffic, sig.MinRate.String())
	}
	return d + presentData(sig)
}
