package spec

import "strings"

// signalKind is what the spec knows about one kind of signal. Each kind is
// one file (kind_<name>.go); the model, the test writer and the dashboard
// keep their part of a kind in a file of the same name.
type signalKind interface {
	// keys are the keys the kind takes beside the common ones.
	keys() []string
	// setDefaults fills the kind's keys the spec leaves out; it runs
	// before any check.
	setDefaults(sig *Signal)
	// validate checks the kind's keys.
	validate(v *validator, path string, sig *Signal)
	// thresholdProblem says what is wrong with a trigger's threshold for
	// a signal of this kind ("" when nothing is).
	thresholdProblem(sig *Signal, thr Quantity) string
	// comparesTracks says whether the canary alert compares the kind.
	comparesTracks(sig *Signal) bool
	// budgeted says whether an SLO can read the kind's error budget.
	budgeted(sig *Signal) bool
}

// signalKinds is every kind, by name.
var signalKinds = map[string]signalKind{
	KindRatio:    ratioKind{},
	KindLatency:  latencyKind{},
	KindGauge:    gaugeKind{},
	KindRate:     rateKind{},
	KindBaseline: baselineKind{},
}

// Kinds lists every signal kind, in the order the docs give them.
func Kinds() []string { return []string{KindRatio, KindLatency, KindGauge, KindRate, KindBaseline} }

// kindList is "ratio, latency, gauge, rate or baseline".
func kindList() string {
	k := Kinds()
	return strings.Join(k[:len(k)-1], ", ") + " or " + k[len(k)-1]
}

// ComparesTracks reports whether a canary: section compares the signal's
// canary track with its baseline track.
func (s *Signal) ComparesTracks() bool {
	k, ok := signalKinds[s.Kind]
	return ok && k.comparesTracks(s)
}

// Budgeted reports whether an SLO can be set on the signal.
func (s *Signal) Budgeted() bool {
	k, ok := signalKinds[s.Kind]
	return ok && k.budgeted(s)
}
