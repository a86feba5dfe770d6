package promtest

import (
	"fmt"
	"math"
	"strconv"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// state is what a test puts a signal through.
type state int

const (
	firing  state = iota // just beyond the threshold
	healthy              // just within the threshold
	idle                 // no traffic at all
	trickle              // beyond the threshold, but traffic below min_rate
	unmet                // beyond the threshold, but the guard does not hold
	appears              // a counter that first appears at 1 and stays there
	flat                 // a counter that holds a value above 0 and never grows
	returns              // flat, but unscraped for longer than the window midway
)

// appearAt is the minute at which an appearing counter is first scraped.
const appearAt = 2

// returnAt is the minute at which a counter that went unscraped at minute
// 10 returns: more than a window plus the 5m lookback later, so that a
// look back of one window alone would take it for a new series.
func returnAt(sig *model.Signal) int { return 10 + minutesOf(sig.Window) + 10 }

func (s state) String() string {
	return [...]string{"just above the threshold", "just below the threshold", "no traffic", "traffic below min_rate", "guard not met",
		"appears at 1", "constant above 0", "back after a gap"}[s]
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// counterAt is the value promtool gives counter(inc, n) at minute n: it
// adds inc n times, and a·n computed otherwise may land above that sum —
// a drop that rate() reads as a counter reset.
func counterAt(inc float64, n int) float64 {
	v := 0.0
	for range n {
		v += inc
	}
	return v
}

func counter(incPerMin float64, minutes int) string {
	return fmt.Sprintf("0+%sx%d", num(incPerMin), minutes)
}

func constant(v float64, minutes int) string {
	return fmt.Sprintf("%s+0x%d", num(v), minutes)
}

// trafficPerMin is the request rate tests use: comfortably above min_rate.
func trafficPerMin(sig *model.Signal) float64 {
	t := 600.0
	if sig.MinRate != nil {
		m, _ := sig.MinRate.Rat().Float64()
		if m*60*4 > t {
			t = math.Ceil(m * 60 * 4)
		}
	}
	return t
}

// crossing returns a firing and a healthy value for a threshold, 10% on
// either side (or one unit off when the threshold is 0); each kind's
// values brings them within what its series can hold.
func crossing(sig *model.Signal, thr spec.Quantity) (fire, ok float64) {
	t, _ := thr.Rat().Float64()
	delta := math.Abs(t) * 0.1
	if delta == 0 {
		delta = 1
		if sig.Unit == "ratio" {
			delta = 0.01
		}
	}
	switch sig.Violation() {
	case ">", ">=":
		fire, ok = t+delta, t-delta
		if t == 0 && sig.Violation() == ">" {
			ok = 0
		}
	default:
		fire, ok = t-delta, t+delta
	}
	return fire, ok
}

// nonNegative rejects a firing or healthy value below 0, which counters
// cannot produce.
func nonNegative(sig *model.Signal, thr spec.Quantity, fire, ok float64) error {
	if ok < 0 || fire < 0 {
		return fmt.Errorf("threshold %s with op %s cannot be tested with non-negative rates", thr.Text, sig.Op)
	}
	return nil
}

// leValue formats a bucket bound as Prometheus 3 stores it ("1.0", "0.2"),
// so generated tests prove the le matchers accept that spelling.
func leValue(v float64) string {
	s := num(v)
	if math.Trunc(v) == v && !math.IsInf(v, 0) {
		s += ".0"
	}
	return s
}

// fractionFast returns the share of requests within the threshold bucket
// for a state of a latency signal, and the quantile histogram_quantile
// then reports with buckets at threshold, 2×threshold and +Inf.
func fractionFast(q, thr float64, st state) (f, quantile float64) {
	if st == healthy {
		f = (1 + q) / 2
		return f, thr * q / f
	}
	f = 2*q - 1
	if f <= 0 {
		f = q / 2
	}
	return f, thr * (1 + (q-f)/(1-f))
}

// signalInput synthesizes the raw series that put a signal into a state for
// `minutes` minutes at 1m resolution.
func signalInput(in *input, sig *model.Signal, thr spec.Quantity, st state, minutes int) error {
	fire, ok, err := synthKinds[sig.Kind].values(sig, thr)
	if err != nil {
		return err
	}
	v := fire
	if st == healthy {
		v = ok
	}
	traffic := trafficPerMin(sig)
	if st == trickle {
		m, _ := sig.MinRate.Rat().Float64()
		traffic = m * 60 / 2
	}
	if st == idle {
		traffic = 0
	}
	by := map[string]string{}
	for _, l := range sig.By {
		by[l] = "test"
	}
	return synthKinds[sig.Kind].input(in, synthesis{sig: sig, thr: thr, st: st, minutes: minutes, value: v, traffic: traffic, by: by})
}

func keep(l labelSet, by []string) labelSet {
	k := labelSet{}
	for _, n := range by {
		k[n] = l[n]
	}
	return k
}

func ratioInput(in *input, sig *model.Signal, ratio, traffic float64, minutes int, extra map[string]string) error {
	errs, err := seriesFor(sig.Errors, sig.Errors.Name, extra)
	if err != nil {
		return err
	}
	good, err := seriesFor(sig.Total, sig.Total.Name, extra)
	if err != nil {
		return err
	}
	if good.matches(sig.Errors.LabelMatchers) {
		g, ok := breakMatch(good, sig.Errors.LabelMatchers, sig.Total.LabelMatchers)
		if !ok {
			return fmt.Errorf("cannot build a series counted in %s but not in %s", sig.Total, sig.Errors)
		}
		good = g
	}
	e := ratio * traffic
	rest := traffic
	if errs.matches(sig.Total.LabelMatchers) {
		rest = traffic - e
	}
	in.value = ratio
	if e == 0 && in.lazy {
		return in.addCounter(good, rest, minutes)
	}
	if err := in.addCounter(errs, e, minutes); err != nil {
		return err
	}
	return in.addCounter(good, rest, minutes)
}

func latencyInput(in *input, sig *model.Signal, thr spec.Quantity, st state, traffic float64, minutes int) error {
	q, _ := sig.Quantile.Rat().Float64()
	t, _ := thr.Rat().Float64()
	f, quantile := fractionFast(q, t, st)
	in.value = quantile
	return histogramInput(in, sig, t, f, traffic, minutes, st != unmet)
}

// histogramInput writes a histogram with buckets at t, 2t and +Inf where a
// fraction f of the traffic falls within t, and, for a guarded signal, the
// guard's series, holding when guardMet.
func histogramInput(in *input, sig *model.Signal, t, f, traffic float64, minutes int, guardMet bool) error {
	h := sig.Histogram
	for _, b := range []struct {
		le  string
		inc float64
	}{{leValue(t), f * traffic}, {leValue(2 * t), traffic}, {"+Inf", traffic}} {
		l, err := seriesFor(h, h.Name+"_bucket", guardLabels(sig, map[string]string{"le": b.le}))
		if err != nil {
			return err
		}
		if err := in.addCounter(l, b.inc, minutes); err != nil {
			return err
		}
	}
	l, err := seriesFor(h, h.Name+"_count", guardLabels(sig, nil))
	if err != nil {
		return err
	}
	if err := in.addCounter(l, traffic, minutes); err != nil {
		return err
	}
	if sig.Guard != nil {
		return guardInput(in, sig, l, guardMet, minutes)
	}
	return nil
}

// baselinePlan is the two-phase input of a baseline test: a steady rate for
// the baseline window, then a changed rate long enough for `for`.
type baselinePlan struct {
	before, after, evalAt int // minutes
	base, k               float64
}

func planBaseline(sig *model.Signal, forMin, minEval int, st state) (baselinePlan, error) {
	w := minutesOf(sig.Window)
	bw := minutesOf(sig.BaselineWindow)
	off := minutesOf(sig.BaselineOffset)
	// The changed rate lasts at least as long as the offset, so that the
	// baseline window is the last stretch before the change: a baseline
	// any closer in time would take in the change and stay silent.
	p := baselinePlan{after: max(w+forMin+5, off)}
	p.before = bw + 5 + max(off-p.after, 0)
	p.after = max(p.after, minEval-p.before)
	p.evalAt = p.before + p.after
	p.base = 10
	if sig.MinRate != nil {
		m, _ := sig.MinRate.Rat().Float64()
		p.base = math.Max(p.base, math.Ceil(m*60*2))
	}
	tol, _ := sig.Tolerance.Rat().Float64()
	// At the evaluation the baseline window, which ends `off` ago, overlaps
	// the changed rate by (after - off) minutes, which lifts the baseline;
	// solve for the smallest change that still exceeds baseline ×
	// (1 + tolerance), then add 10%.
	x := float64(max(p.after-off, 0)) / float64(bw)
	den := 1 - (1+tol)*x
	if den <= 0 {
		return p, fmt.Errorf("baseline_window %s is too short to test against for and window", sig.BaselineWindow.Text)
	}
	kMin := (1 + tol) * (1 - x) / den
	switch st {
	case firing:
		p.k = math.Ceil(kMin*1.1*100) / 100
	case healthy:
		p.k = 1 + tol/2
	case idle:
		p.base, p.k = 0, 0
	case trickle:
		// A rise beyond the tolerance, but below min_rate throughout.
		m, _ := sig.MinRate.Rat().Float64()
		p.base, p.k = m*60/4, math.Ceil(kMin*1.1*100)/100
		if p.k >= 4 {
			return p, fmt.Errorf("tolerance %s is too large to test below min_rate", sig.Tolerance.Text)
		}
	}
	return p, nil
}

func baselineInput(in *input, sig *model.Signal, p baselinePlan) error {
	l, err := seriesFor(sig.Counter, sig.Counter.Name, nil)
	if err != nil {
		return err
	}
	after := p.base * p.k
	start := p.base*float64(p.before) + after
	values := fmt.Sprintf("%s %s+%sx%d", counter(p.base, p.before), num(start), num(after), p.after-1)
	in.value = after / 60
	return in.add(l, values)
}

func minutesOf(d spec.Duration) int {
	return int(math.Ceil(d.Seconds() / 60))
}

// recordedValues predicts the recording rules of a signal under its firing
// input (steady state), keyed by rule name; each value carries its labels.
func recordedValues(sig *model.Signal) (map[string][]sample, error) {
	var thr spec.Quantity
	if sig.Threshold != nil {
		thr = *sig.Threshold
	}
	fire, _, err := synthKinds[sig.Kind].values(sig, thr)
	if err != nil {
		return nil, err
	}
	return synthKinds[sig.Kind].recorded(sig, thr, fire), nil
}

type sample struct {
	labels labelSet
	value  float64
}

// uniformHistogram writes a histogram whose observations all fall in the
// bucket (u, 2u], so that histogram_quantile(q) is exactly u × (1 + q): any
// quantile value can be produced by choosing u.
func uniformHistogram(in *input, sig *model.Signal, quantile, traffic float64, minutes int, extra map[string]string) error {
	q, _ := sig.Quantile.Rat().Float64()
	u := quantile / (1 + q)
	h := sig.Histogram
	with := func(le string) map[string]string {
		m := map[string]string{"le": le}
		for k, v := range extra {
			m[k] = v
		}
		return guardLabels(sig, m)
	}
	for _, b := range []struct {
		le  string
		inc float64
	}{{leValue(u), 0}, {leValue(2 * u), traffic}, {"+Inf", traffic}} {
		l, err := seriesFor(h, h.Name+"_bucket", with(b.le))
		if err != nil {
			return err
		}
		if err := in.add(l, counter(b.inc, minutes)); err != nil {
			return err
		}
	}
	l, err := seriesFor(h, h.Name+"_count", guardLabels(sig, extra))
	if err != nil {
		return err
	}
	if err := in.add(l, counter(traffic, minutes)); err != nil {
		return err
	}
	if sig.Guard != nil {
		return guardInput(in, sig, l, true, minutes)
	}
	return nil
}
