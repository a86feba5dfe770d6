package promtest

import (
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// latencySynth writes a histogram whose quantile lands where the state
// needs it.
type latencySynth struct{ steadySynth }

// errorRatio: the SLO counts the requests slower than the threshold bucket.
func (latencySynth) errorRatio(sig *model.Signal, _ *input) float64 {
	q, _ := sig.Quantile.Rat().Float64()
	f, _ := fractionFast(q, 0, firing)
	return 1 - f
}

func (latencySynth) input(in *input, s synthesis) error {
	return latencyInput(in, s.sig, s.thr, s.st, s.traffic, s.minutes)
}

func (latencySynth) recorded(sig *model.Signal, thr spec.Quantity, _ float64) map[string][]sample {
	w, traffic := sig.Window.String(), trafficPerMin(sig)
	q, _ := sig.Quantile.Rat().Float64()
	t, _ := thr.Rat().Float64()
	f, quantile := fractionFast(q, t, firing)
	out := map[string][]sample{
		"service:" + sig.Name + "_bucket:rate" + w: {
			{labelSet{"le": leValue(t)}, f * traffic / 60},
			{labelSet{"le": leValue(2 * t)}, traffic / 60},
			{labelSet{"le": "+Inf"}, traffic / 60},
		},
		"service:" + sig.Name + "_count:rate" + w:                                     {{nil, traffic / 60}},
		"service:" + sig.Name + ":" + model.QuantileName(*sig.Quantile) + "_rate" + w: {{nil, quantile}},
	}
	if sig.Good != "" {
		out[sig.Good] = []sample{{nil, f * traffic / 60}}
	}
	return out
}

func (latencySynth) trackInput(in *input, sig *model.Signal, value, traffic float64, minutes int, track map[string]string) error {
	return uniformHistogram(in, sig, value, traffic, minutes, track)
}

func (latencySynth) trackRecorded(sig *model.Signal, label, track string, value, traffic float64) map[string][]sample {
	q, _ := sig.Quantile.Rat().Float64()
	u := value / (1 + q)
	buckets := label + ":" + sig.Name + "_bucket:rate" + sig.Window.String()
	return map[string][]sample{buckets: {
		{labelSet{label: track, "le": leValue(u)}, 0},
		{labelSet{label: track, "le": leValue(2 * u)}, traffic / 60},
		{labelSet{label: track, "le": "+Inf"}, traffic / 60},
	}}
}

// budgetInput: the error ratio is the share beyond the threshold bucket.
func (latencySynth) budgetInput(in *input, sig *model.Signal, ratio, traffic float64, minutes int) error {
	t, _ := sig.Threshold.Rat().Float64()
	return histogramInput(in, sig, t, 1-ratio, traffic, minutes, true)
}
