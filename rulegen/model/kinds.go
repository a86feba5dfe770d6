package model

import "github.com/redline-sre/redline/rulegen/spec"

// signalKind is how the model builds one kind of signal. Each kind is one
// file (kind_<name>.go), beside the spec's, the test writer's and the
// dashboard's file of the same name.
type signalKind interface {
	// record adds the signal's recording rules and sets its Value (and
	// Traffic, Good, Baseline, Scale where the kind has them).
	record(m *Model, sig *Signal)
	// condition is the expression of "the signal is beyond thr", with the
	// kind's guards.
	condition(sig *Signal, thr spec.Quantity) string
	// describe says in words when the condition is met.
	describe(sig *Signal, thr spec.Quantity) string
	// catchesFirstIncrement says whether the condition also fires on a
	// counter that appears above 0.
	catchesFirstIncrement(sig *Signal, thr spec.Quantity) bool
	// source is the selector whose absence leaves the signal without a
	// value.
	source(sig *Signal) string
	// recordTracks adds the per-track recording rules of a canary
	// comparison and returns the value and traffic records; it is called
	// for kinds whose spec.Signal.ComparesTracks holds.
	recordTracks(m *Model, sig *Signal, c *spec.Canary) (value, traffic string)
	// errorRatio is the SLO error ratio over a range of the recorded
	// rates (budget.go's windowRange), or of the recording window itself
	// when the range is ""; it is called for kinds whose
	// spec.Signal.Budgeted holds.
	errorRatio(sig *Signal, rng string) string
	// data is the signal's value summed to one sample where a canary
	// engine's check can compare it with a threshold (analysis.go).
	data(sig *Signal) string
}

// signalKinds is every kind the model builds, by name.
var signalKinds = map[string]signalKind{
	spec.KindRatio:    ratioKind{},
	spec.KindLatency:  latencyKind{},
	spec.KindGauge:    gaugeKind{},
	spec.KindRate:     rateKind{},
	spec.KindBaseline: baselineKind{},
}

func (s *Signal) kind() signalKind { return signalKinds[s.Kind] }

// Source is the selector of the series a signal's value is computed from,
// the one whose absence leaves the signal without a value: the total of a
// ratio (errors may rightly not exist), a histogram's _count, a mean's
// _count, a gauge's metric, a counter.
func (s *Signal) Source() string { return s.kind().source(s) }

// condition builds "signal beyond threshold" with the signal's guards.
func (s *Signal) condition(thr spec.Quantity) string { return s.kind().condition(s, thr) }

// catchesFirstIncrement reports whether any increase of the signal's
// counter is a violation, so a counter that appears already above 0 must
// fire too.
func (s *Signal) catchesFirstIncrement(thr spec.Quantity) bool {
	return s.kind().catchesFirstIncrement(s, thr)
}

// describeCondition says in words when a condition is met.
func describeCondition(s *Signal, thr spec.Quantity) string { return s.kind().describe(s, thr) }

// beyond is the plain comparison of a signal's value with a threshold.
func beyond(s *Signal, thr spec.Quantity) string {
	return s.Value + " " + s.Violation() + " " + thr.String()
}

// describeBeyond says "name > threshold" in the signal's unit.
func describeBeyond(s *Signal, thr spec.Quantity) string {
	return s.Name + " " + s.Violation() + " " + s.ThresholdText(thr)
}

// minRateGuard keeps a ratio, latency or baseline condition silent at low
// traffic.
func minRateGuard(s *Signal) string {
	if s.MinRate == nil {
		return ""
	}
	return " and " + s.Traffic + " >= " + s.MinRate.String()
}
