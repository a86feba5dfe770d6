package promtest

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// ratioSynth writes error and total counters.
type ratioSynth struct{ steadySynth }

// values keeps the firing value within [0, 1].
func (ratioSynth) values(sig *model.Signal, thr spec.Quantity) (fire, ok float64, err error) {
	t, _ := thr.Rat().Float64()
	if t >= 1 {
		return 0, 0, fmt.Errorf("a ratio threshold of %s can never be exceeded", thr.Text)
	}
	fire, ok = crossing(sig, thr)
	if fire > 1 {
		fire = (t + 1) / 2
	}
	return fire, ok, nonNegative(sig, thr, fire, ok)
}

// trackValue: a ratio of 1 or more is no share of requests.
func (ratioSynth) trackValue(v, t float64) float64 {
	if v >= 1 {
		return (t + 1) / 2
	}
	return v
}

func (ratioSynth) input(in *input, s synthesis) error {
	return ratioInput(in, s.sig, s.value, s.traffic, s.minutes, nil)
}

func (ratioSynth) recorded(sig *model.Signal, _ spec.Quantity, fire float64) map[string][]sample {
	w, traffic := sig.Window.String(), trafficPerMin(sig)
	return map[string][]sample{
		"service:" + sig.Name + "_errors:rate" + w: {{nil, fire * traffic / 60}},
		"service:" + sig.Name + "_total:rate" + w:  {{nil, traffic / 60}},
		"service:" + sig.Name + ":ratio_rate" + w:  {{nil, fire}},
	}
}

func (ratioSynth) trackInput(in *input, sig *model.Signal, value, traffic float64, minutes int, track map[string]string) error {
	return ratioInput(in, sig, value, traffic, minutes, track)
}

func (ratioSynth) trackRecorded(sig *model.Signal, label, track string, value, traffic float64) map[string][]sample {
	errs := label + ":" + sig.Name + "_errors:rate" + sig.Window.String()
	return map[string][]sample{errs: {{labelSet{label: track}, value * traffic / 60}}}
}

func (ratioSynth) budgetInput(in *input, sig *model.Signal, ratio, traffic float64, minutes int) error {
	return ratioInput(in, sig, ratio, traffic, minutes, nil)
}
