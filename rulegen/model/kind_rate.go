package model

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/spec"
)

// rateKind: the rate of a counter, per second, minute or hour.
type rateKind struct{}

func (rateKind) record(m *Model, sig *Signal) {
	w := sig.Window.String()
	sig.Value = m.record(aggregationLevel(sig.By)+":"+sig.Name+":rate"+w, agg("sum", sig.By, fmt.Sprintf("rate(%s[%s])", sig.Signal.Counter, w)))
	sig.Traffic = sig.Value
	sig.Scale = perScale[sig.Per]
}

func (k rateKind) condition(sig *Signal, thr spec.Quantity) string {
	expr := beyond(sig, thr)
	if k.catchesFirstIncrement(sig, thr) {
		expr += "\nor\n" + firstIncrement(sig)
	}
	return expr
}

func (rateKind) describe(sig *Signal, thr spec.Quantity) string { return describeBeyond(sig, thr) }

// catchesFirstIncrement: with threshold 0 every increase is a violation.
func (rateKind) catchesFirstIncrement(sig *Signal, thr spec.Quantity) bool {
	return sig.Violation() == ">" && thr.Rat().Sign() == 0
}

// firstIncrement catches a counter that appears already above 0 — an
// application that creates it on the first event. rate() needs two samples,
// so that first event never shows as a rate; a series above 0 that had no
// sample in the hour before the window counts as that increase within the
// window. The hour (rather than the instant one window ago) keeps a target
// that was unreachable for a while from reading as new when it returns:
// range selectors skip the staleness markers its failed scrapes left.
func firstIncrement(s *Signal) string {
	c := s.Signal.Counter
	w := s.Window.String()
	expr := fmt.Sprintf("%s / %d", agg("sum", s.By, fmt.Sprintf("%s > 0 unless last_over_time(%s[1h] offset %s)", c, c, w)), int(s.Window.Seconds()))
	if s.Scale != 1 {
		expr += fmt.Sprintf(" * %d", s.Scale)
	}
	return expr
}

func (rateKind) source(sig *Signal) string { return sig.Signal.Counter }

func (rateKind) recordTracks(*Model, *Signal, *spec.Canary) (string, string) {
	panic("model: a rate signal has no canary comparison")
}

func (rateKind) errorRatio(*Signal, string) string {
	panic("model: a rate signal has no error budget")
}

// data: a counter the canary has not created yet (applications create
// many on their first event) counts no events while the signal's present
// selector has series; without one, or without its series, there is no
// data, which must not pass.
func (rateKind) data(sig *Signal) string { return fmt.Sprintf("sum(%s)", sig.Value) + presentData(sig) }
