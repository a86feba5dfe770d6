package promtest

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// rateSynth writes the counter growing at the rate the state needs.
type rateSynth struct{ steadySynth }

// values: a rate is never negative.
func (rateSynth) values(sig *model.Signal, thr spec.Quantity) (fire, ok float64, err error) {
	fire, ok = crossing(sig, thr)
	return fire, ok, nonNegative(sig, thr, fire, ok)
}

func (rateSynth) input(in *input, s synthesis) error {
	sig, v, minutes := s.sig, s.value, s.minutes
	l, err := seriesFor(sig.Counter, sig.Counter.Name, s.by)
	if err != nil {
		return err
	}
	in.labels = keep(l, sig.By)
	switch s.st {
	case appears:
		// One event within the window, in the signal's unit.
		in.value = float64(sig.Scale) / sig.Window.Seconds()
		return in.add(l, fmt.Sprintf("_x%d 1+0x%d", appearAt, minutes-appearAt-1))
	case flat:
		in.value = 0
		return in.add(l, constant(3, minutes))
	case returns:
		// Scraped for 10 minutes, then stale (the target went away)
		// until returnAt, then back at the same value.
		at := returnAt(sig)
		in.value = 0
		return in.add(l, fmt.Sprintf("3+0x9 stale _x%d 3+0x%d", at-11, max(minutes, at+minutesOf(sig.Window)+2)-at-1))
	}
	inc := v / float64(sig.Scale) * 60
	if s.st == idle {
		inc, v = 0, 0
	}
	in.value = v
	return in.add(l, counter(inc, minutes))
}

func (rateSynth) recorded(sig *model.Signal, _ spec.Quantity, fire float64) map[string][]sample {
	return recordedValue(sig, fire)
}

func (rateSynth) trackInput(*input, *model.Signal, float64, float64, int, map[string]string) error {
	panic("promtest: a rate signal has no canary comparison")
}

func (rateSynth) trackRecorded(*model.Signal, string, string, float64, float64) map[string][]sample {
	panic("promtest: a rate signal has no canary comparison")
}

func (rateSynth) budgetInput(*input, *model.Signal, float64, float64, int) error {
	panic("promtest: a rate signal has no error budget")
}
