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
}

// synthKinds is every kind the tests synthesize input for, by name.
var synthKinds = map[string]synthKind{
	spec.KindRatio:    ratioSynth{},
	spec.KindLatency:  latencySynth{},
	spec.KindGauge:    gaugeSynth{},
	spec.KindRate:     rateSynth{},
	spec.KindBaseline: baselineSynth{},
}

// Synthesizes reports whether the tests can synthesize input for a kind.
func Synthesizes(kind string) bool {
	_, ok := synthKinds[kind]
	return ok
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
