package promtest

import (
	"fmt"
	"strconv"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// gaugeSynth writes the metric at the value (or slope) the state needs.
type gaugeSynth struct{ steadySynth }

func (gaugeSynth) input(in *input, s synthesis) error {
	sig, v, minutes, by := s.sig, s.value, s.minutes, s.by
	if s.st == idle {
		return nil // a gauge without traffic is a gauge without series
	}
	scale := float64(sig.Scale)
	if sig.Guard != nil {
		// The signal's series carry the labels its guard joins on.
		for _, l := range sig.Guard.On {
			if _, set := by[l]; !set {
				by[l] = "test"
			}
		}
	}
	var l labelSet
	var err error
	switch sig.Function {
	case "rate":
		if l, err = seriesFor(sig.Metric, sig.Metric.Name, by); err == nil {
			err = in.add(l, counter(v/scale*60, minutes))
		}
	case "deriv":
		if l, err = seriesFor(sig.Metric, sig.Metric.Name, by); err == nil {
			err = in.add(l, fmt.Sprintf("1000+%sx%d", num(v/scale*60), minutes))
		}
	case "mean":
		var sum, count labelSet
		if sum, err = seriesFor(sig.Metric, sig.Metric.Name+"_sum", by); err != nil {
			return err
		}
		if count, err = seriesFor(sig.Metric, sig.Metric.Name+"_count", by); err != nil {
			return err
		}
		if err = in.add(sum, counter(v*60, minutes)); err == nil {
			err = in.add(count, counter(60, minutes))
		}
		l = sum
	default:
		if l, err = seriesFor(sig.Metric, sig.Metric.Name, by); err == nil {
			err = in.add(l, constant(v, minutes))
		}
	}
	if err == nil && sig.Guard != nil {
		err = guardInput(in, sig, l, s.st != unmet, minutes)
	}
	in.value, in.labels = v, keep(l, sig.By)
	return err
}

func (gaugeSynth) recorded(sig *model.Signal, _ spec.Quantity, fire float64) map[string][]sample {
	return recordedValue(sig, fire)
}

// recordedValue predicts the one recording rule of a gauge or rate signal:
// its value before scaling, per by label set.
func recordedValue(sig *model.Signal, fire float64) map[string][]sample {
	name := sig.Value
	if sig.Scale != 1 {
		name = name[:len(name)-len(" * "+strconv.Itoa(sig.Scale))]
	}
	var by labelSet
	if len(sig.By) > 0 {
		by = labelSet{}
		for _, l := range sig.By {
			by[l] = "test"
		}
	}
	return map[string][]sample{name: {{by, fire / float64(sig.Scale)}}}
}

func (gaugeSynth) trackInput(*input, *model.Signal, float64, float64, int, map[string]string) error {
	panic("promtest: a gauge signal has no canary comparison")
}

func (gaugeSynth) trackRecorded(*model.Signal, string, string, float64, float64) map[string][]sample {
	panic("promtest: a gauge signal has no canary comparison")
}

func (gaugeSynth) budgetInput(*input, *model.Signal, float64, float64, int) error {
	panic("promtest: a gauge signal has no error budget")
}
