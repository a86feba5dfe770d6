package promtest

import (
	"fmt"
	"sort"
)

// input is the series of one test and the value the alert will show.
type input struct {
	series map[string]string  // series → values
	incs   map[string]float64 // counter series → increment per minute
	consts map[string]float64 // constant series (a guard's) → value
	value  float64            // the signal's value in its unit
	labels labelSet           // labels the signal's value keeps (by labels)
	// lazy leaves out the error series of a ratio that has no errors, as
	// client libraries do until the first error.
	lazy bool
}

// addCounter adds a counter growing by inc per minute and remembers inc,
// so that two inputs can be joined into one that changes midway.
func (in *input) addCounter(l labelSet, inc float64, minutes int) error {
	if in.incs == nil {
		in.incs = map[string]float64{}
	}
	in.incs[l.String()] = inc
	return in.add(l, counter(inc, minutes))
}

// addConst adds a series holding v and remembers v, so that a joined
// input keeps it (a guard's series beside the signal's counters).
func (in *input) addConst(l labelSet, v float64, minutes int) error {
	if in.consts == nil {
		in.consts = map[string]float64{}
	}
	in.consts[l.String()] = v
	return in.add(l, constant(v, minutes))
}

// stepped joins two inputs with the same series: the first's rates for
// `before` minutes, then the second's for `after` more minutes. Constant
// series hold the first's value throughout.
func stepped(first, second *input, before, after int) *input {
	out := newInput()
	for k, a := range first.incs {
		b := second.incs[k]
		out.series[k] = fmt.Sprintf("%s %s+%sx%d", counter(a, before), num(counterAt(a, before)+b), num(b), after-1)
	}
	for k, c := range first.consts {
		out.series[k] = constant(c, before+after)
	}
	return out
}

func (in *input) add(l labelSet, values string) error {
	k := l.String()
	if old, ok := in.series[k]; ok && old != values {
		return fmt.Errorf("two signals of one test need different values for %s", k)
	}
	in.series[k] = values
	return nil
}

func (in *input) seriesList() []Series {
	keys := make([]string, 0, len(in.series))
	for k := range in.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Series, len(keys))
	for i, k := range keys {
		out[i] = Series{Series: k, Values: in.series[k]}
	}
	return out
}

func newInput() *input { return &input{series: map[string]string{}} }
