package promtest

import (
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// synthKind is how the tests synthesize input for one kind of signal. Each
// kind is one file (kind_<name>.go), beside the spec's, the model's and the
// dashboard's file of the same name.
type synthKind interface {
	// input writes the raw series that put the signal into a state.
	input(in *input, s synthesis) error
	// recorded predicts the signal's recording rules under its steady
	// firing input (fire is the firing value), keyed by rule name.
	recorded(sig *model.Signal, thr spec.Quantity, fire float64) map[string][]sample
	// trackInput writes one canary track's series at a value and traffic
	// (requests per minute), for kinds the canary alert compares.
	trackInput(in *input, sig *model.Signal, value, traffic float64, minutes int, track map[string]string) error
	// trackRecorded predicts one track's per-track recording rules (other
	// than value and traffic), for kinds the canary alert compares.
	trackRecorded(sig *model.Signal, label, track string, value, traffic float64) map[string][]sample
	// budgetInput writes the series of an SLO's signal at an error ratio
	// and traffic, for kinds an SLO reads.
	budgetInput(in *input, sig *model.Signal, ratio, traffic float64, minutes int) error

	// values picks a firing and a healthy value on either side of a
	// threshold that the kind's series can hold (a ratio stays within
	// [0, 1], a rate is never negative).
	values(sig *model.Signal, thr spec.Quantity) (fire, ok float64, err error)
	// triggerEval is the minute a trigger test evaluates at, given the one
	// a steady input needs; steady is false for a kind that needs a
	// history of its own first (a baseline), whose alert cannot be checked
	// "still pending" a minute before its for.
	triggerEval(sig *model.Signal, forMin, evalAt int) (at int, steady bool, err error)
	// triggerInput writes one condition's series in a state for a trigger
	// test evaluated at evalAt over length minutes.
	triggerInput(in *input, sig *model.Signal, thr spec.Quantity, st state, forMin, evalAt, length int) error
	// recordingInput writes the steady firing input the recording-rule
	// tests read and returns the minute they evaluate at.
	recordingInput(in *input, sig *model.Signal, thr spec.Quantity) (evalAt int, err error)
	// errorRatio is the error ratio an SLO on the signal reads under the
	// input in wrote.
	errorRatio(sig *model.Signal, in *input) float64
	// trackValue brings a canary track's value within what the kind's
	// series can hold, staying beyond the threshold t.
	trackValue(v, t float64) float64
}

// steadySynth is the behaviour of the kinds whose input is a steady state
// from the first sample; the kinds embed it and override what differs.
type steadySynth struct{}

func (steadySynth) values(sig *model.Signal, thr spec.Quantity) (fire, ok float64, err error) {
	fire, ok = crossing(sig, thr)
	return fire, ok, nil
}

func (steadySynth) triggerEval(_ *model.Signal, _, evalAt int) (int, bool, error) {
	return evalAt, true, nil
}

func (steadySynth) triggerInput(in *input, sig *model.Signal, thr spec.Quantity, st state, _, _, length int) error {
	return signalInput(in, sig, thr, st, length)
}

func (steadySynth) recordingInput(in *input, sig *model.Signal, thr spec.Quantity) (int, error) {
	evalAt := minutesOf(sig.Window) + 5
	return evalAt, signalInput(in, sig, thr, firing, evalAt+1)
}

func (steadySynth) errorRatio(_ *model.Signal, in *input) float64 { return in.value }

func (steadySynth) trackValue(v, _ float64) float64 { return v }

// synthKinds is every kind the tests synthesize input for, by name.
var synthKinds = map[string]synthKind{
	spec.KindRatio:    ratioSynth{},
	spec.KindLatency:  latencySynth{},
	spec.KindGauge:    gaugeSynth{},
	spec.KindRate:     rateSynth{},
	spec.KindBaseline: baselineSynth{},
}

// synthesis is one request for a signal's input: the state to put it in,
// for how many minutes, and what that state means for it.
type synthesis struct {
	sig     *model.Signal
	thr     spec.Quantity
	st      state
	minutes int
	// value is the signal's firing or healthy value for the state.
	value float64
	// traffic is the request rate per minute for the state.
	traffic float64
	// by gives every by label of the signal a value.
	by map[string]string
}
