package promtest

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// baselineSynth: a baseline needs its own history, a steady rate and then a
// changed one (baselinePlan); its trigger and recording tests plan it.
type baselineSynth struct{ steadySynth }

// triggerEval leaves room for the baseline's own window and offset.
func (baselineSynth) triggerEval(sig *model.Signal, forMin, evalAt int) (int, bool, error) {
	p, err := planBaseline(sig, forMin, evalAt, firing)
	return max(evalAt, p.evalAt), false, err
}

func (baselineSynth) triggerInput(in *input, sig *model.Signal, _ spec.Quantity, st state, forMin, evalAt, _ int) error {
	p, err := planBaseline(sig, forMin, evalAt, st)
	if err != nil {
		return err
	}
	return baselineInput(in, sig, p)
}

// recordingInput: a steady rate, evaluated once the baseline window and
// its offset have passed.
func (baselineSynth) recordingInput(in *input, sig *model.Signal, _ spec.Quantity) (int, error) {
	evalAt := minutesOf(sig.BaselineWindow) + minutesOf(sig.BaselineOffset) + 5
	l, err := seriesFor(sig.Counter, sig.Counter.Name, nil)
	if err != nil {
		return 0, err
	}
	return evalAt, in.add(l, counter(10, evalAt+1))
}

func (baselineSynth) input(_ *input, s synthesis) error {
	return fmt.Errorf("no input synthesis for %s signals", s.sig.Kind)
}

func (baselineSynth) recorded(sig *model.Signal, _ spec.Quantity, _ float64) map[string][]sample {
	return map[string][]sample{
		sig.Value:    {{nil, 10.0 / 60}},
		sig.Baseline: {{nil, 10.0 / 60}},
	}
}

func (baselineSynth) trackInput(*input, *model.Signal, float64, float64, int, map[string]string) error {
	panic("promtest: a baseline signal has no canary comparison")
}

func (baselineSynth) trackRecorded(*model.Signal, string, string, float64, float64) map[string][]sample {
	panic("promtest: a baseline signal has no canary comparison")
}

func (baselineSynth) budgetInput(*input, *model.Signal, float64, float64, int) error {
	panic("promtest: a baseline signal has no error budget")
}
