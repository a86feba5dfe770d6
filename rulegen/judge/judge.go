// Package judge decides whether a canary behaves like its baseline, metric
// by metric, from two samples of each metric — as Netflix's Kayenta
// (NetflixACAJudge) does, with three additions: a dispersion test, a count
// test for event counts, and no data as a result of its own.
//
// Per metric: the Mann-Whitney U test with the Hodges-Lehmann estimate of
// the shift and its confidence interval; the metric is High (or Low) when
// the interval lies above (below) a tolerance band of ±Tolerance·|estimate|
// and the effect size reaches the allowed one. A metric that passes that
// test is then High when the canary's spread grew (Brown-Forsythe), or, for
// event counts, when its event rate is higher (a Poisson comparison). The
// run's score is the weighted share of the metrics with data that pass.
//
// The package knows nothing of where samples come from (see
// rulegen/judge/prom for Prometheus).
package judge

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Direction says which change of a metric is bad.
type Direction string

// Directions.
const (
	Increase Direction = "increase"
	Decrease Direction = "decrease"
	Either   Direction = "either"
)

// Type says what a metric's samples are.
type Type string

// Types.
const (
	// Latency is any continuous measurement (latency, a ratio, a gauge).
	Latency Type = "latency"
	// Count is events per sample (errors in each step), compared as
	// Poisson rates besides the rank test.
	Count Type = "count"
)

// NaNStrategy says what a NaN sample is.
type NaNStrategy string

// NaN strategies.
const (
	// Remove drops NaN (and infinite) samples.
	Remove NaNStrategy = "remove"
	// Replace makes them 0, and — Kayenta's rule — passes a metric one of
	// whose sides has no samples at all, as "nothing happened". The spec
	// does not offer it: it passes a metric without data.
	Replace NaNStrategy = "replace"
)

// Effect size measures.
const (
	MeanRatio = "meanRatio"
	CLES      = "cles"
)

// Defaults.
const (
	DefaultConfidence    = 0.98
	DefaultTolerance     = 0.25
	DefaultMinSamples    = 5
	DefaultAllowedSpread = 1.5
	DefaultPass          = 95
	DefaultMarginal      = 75
)

// Config is how one metric is judged. Zero values take the defaults.
type Config struct {
	Name      string    `json:"name"`
	Direction Direction `json:"direction"`
	Type      Type      `json:"type"`
	// Confidence of the interval and of the added tests (0.98).
	Confidence float64 `json:"confidence"`
	// Tolerance is the half-width of the band around no shift, as a
	// fraction of the estimate (Kayenta's 0.25).
	Tolerance float64 `json:"tolerance"`
	// EffectSize is meanRatio (canary mean / baseline mean, the default)
	// or cles (the share of pairs in which the canary is higher).
	EffectSize string `json:"effect_size"`
	// AllowedIncrease and AllowedDecrease are the effect sizes a High or
	// Low needs (1.0, or 0.5 for cles): allowed_increase 1.1 lets a 10 %
	// higher canary pass.
	AllowedIncrease float64 `json:"allowed_increase"`
	AllowedDecrease float64 `json:"allowed_decrease"`
	// CriticalIncrease and CriticalDecrease are the effect sizes a High or
	// Low of a critical metric needs to fail the run by itself.
	CriticalIncrease float64 `json:"critical_increase"`
	CriticalDecrease float64 `json:"critical_decrease"`
	// AllowedSpread is the ratio of mean absolute deviations (canary over
	// baseline) a significant dispersion change needs to be High (1.5, or
	// the allowed increase when that is larger).
	AllowedSpread float64 `json:"allowed_spread"`
	Critical      bool    `json:"critical"`
	// Weight of the metric in its group's score (1).
	Weight float64 `json:"weight"`
	Group  string  `json:"group,omitempty"`
	// MinSamples is the fewest samples a side needs (5); fewer is NoData.
	MinSamples int         `json:"min_samples"`
	NaN        NaNStrategy `json:"nan_strategy"`
	// MannWhitneyOnly turns off the dispersion and count tests, leaving
	// Kayenta's classifier.
	MannWhitneyOnly bool `json:"mann_whitney_only,omitempty"`
}

// WithDefaults returns the configuration with every zero value set.
func (c Config) WithDefaults() Config {
	if c.Direction == "" {
		c.Direction = Either
	}
	if c.Type == "" {
		c.Type = Latency
	}
	if c.Confidence == 0 {
		c.Confidence = DefaultConfidence
	}
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	if c.EffectSize == "" {
		c.EffectSize = MeanRatio
	}
	neutral := 1.0
	if c.EffectSize == CLES {
		neutral = 0.5
	}
	for _, p := range []*float64{&c.AllowedIncrease, &c.AllowedDecrease, &c.CriticalIncrease, &c.CriticalDecrease} {
		if *p == 0 {
			*p = neutral
		}
	}
	if c.AllowedSpread == 0 {
		c.AllowedSpread = DefaultAllowedSpread
	}
	if c.Weight == 0 {
		c.Weight = 1
	}
	if c.MinSamples == 0 {
		c.MinSamples = DefaultMinSamples
	}
	if c.NaN == "" {
		c.NaN = Remove
	}
	return c
}

// Validate reports a configuration the judge cannot apply.
func (c Config) Validate() error {
	switch c.Direction {
	case "", Increase, Decrease, Either:
	default:
		return fmt.Errorf("direction %q: want increase, decrease or either", c.Direction)
	}
	switch c.Type {
	case "", Latency, Count:
	default:
		return fmt.Errorf("type %q: want latency or count", c.Type)
	}
	switch c.EffectSize {
	case "", MeanRatio, CLES:
	default:
		return fmt.Errorf("effect size %q: want meanRatio or cles", c.EffectSize)
	}
	switch c.NaN {
	case "", Remove, Replace:
	default:
		return fmt.Errorf("nan strategy %q: want remove or replace", c.NaN)
	}
	if c.Confidence != 0 && (c.Confidence <= 0.5 || c.Confidence >= 1) {
		return fmt.Errorf("confidence %g: want a value between 0.5 and 1", c.Confidence)
	}
	if c.Tolerance < 0 || c.Weight < 0 || c.MinSamples < 0 || c.AllowedIncrease < 0 || c.AllowedDecrease < 0 || c.AllowedSpread < 0 {
		return fmt.Errorf("tolerance, weight, min_samples and the allowed effects cannot be negative")
	}
	return nil
}

// Classification of one metric.
type Classification string

// Classifications.
const (
	Pass   Classification = "Pass"
	High   Classification = "High"
	Low    Classification = "Low"
	NoData Classification = "NoData"
)

// Reasons a metric got its classification (Result.DecidedBy).
const (
	ByMannWhitney = "mann-whitney"
	ByDispersion  = "dispersion"
	ByCount       = "count"
	ByIdentical   = "identical"
	ByNoData      = "no-data"
)

// Value is a number that is written to JSON as null when it is NaN or
// infinite (an effect size over a zero mean).
type Value float64

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(f, 'g', -1, 64)), nil
}

// UnmarshalJSON implements json.Unmarshaler (null is NaN).
func (v *Value) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = Value(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*v = Value(f)
	return nil
}

// Summary describes one side's samples.
type Summary struct {
	// Count is the samples judged; Dropped the NaN or infinite ones
	// removed (or replaced) before.
	Count   int   `json:"count"`
	Dropped int   `json:"dropped"`
	Min     Value `json:"min"`
	Max     Value `json:"max"`
	Mean    Value `json:"mean"`
	Median  Value `json:"median"`
	Std     Value `json:"std"`
}

// Summarize describes samples: the sample (n-1) standard deviation, and
// zeros for an empty sample (as Kayenta).
func Summarize(v []float64) Summary {
	s := Summary{Count: len(v)}
	if len(v) == 0 {
		return s
	}
	sorted := sortedCopy(v)
	s.Min, s.Max = Value(sorted[0]), Value(sorted[len(sorted)-1])
	s.Mean, s.Median, s.Std = Value(mean(v)), Value(quantileSorted(sorted, 0.5)), Value(stddev(v))
	return s
}

// Band is the tolerance band around no shift.
type Band struct {
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// Result is one metric's judgement.
type Result struct {
	Name           string         `json:"name"`
	Classification Classification `json:"classification"`
	// Critical says the classification fails the run by itself: a High or
	// Low of a critical metric beyond its critical effect, or a critical
	// metric without data (which makes the run NoData).
	Critical  bool    `json:"critical"`
	DecidedBy string  `json:"decided_by"`
	Reason    string  `json:"reason,omitempty"`
	Weight    float64 `json:"weight"`
	Group     string  `json:"group,omitempty"`
	Canary    Summary `json:"canary"`
	Baseline  Summary `json:"baseline"`
	// MannWhitney and the band are absent when the samples were not
	// compared (no data, identical samples).
	MannWhitney *MannWhitney `json:"mann_whitney,omitempty"`
	Band        *Band        `json:"band,omitempty"`
	// EffectSize is measured as EffectMeasure; Deviation is always the
	// mean ratio (Kayenta's report). Both NaN (null) over a zero mean.
	EffectMeasure string      `json:"effect_measure,omitempty"`
	EffectSize    Value       `json:"effect_size"`
	Deviation     Value       `json:"deviation"`
	Dispersion    *Dispersion `json:"dispersion,omitempty"`
	Rates         *Rates      `json:"rates,omitempty"`
}

// clean applies the NaN strategy; infinite samples count as NaN, since a
// difference of two infinities has no order.
func clean(v []float64, s NaNStrategy) (out []float64, dropped int) {
	out = make([]float64, 0, len(v))
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			dropped++
			if s == Replace {
				out = append(out, 0)
			}
			continue
		}
		out = append(out, x)
	}
	return out, dropped
}

// Classify judges one metric from its canary and baseline samples.
func Classify(canary, baseline []float64, cfg Config) Result {
	return ClassifyEvents(canary, baseline, nil, cfg)
}

// ClassifyEvents judges one metric whose event counts are given apart
// from its samples (a Count metric's samples are otherwise the counts).
func ClassifyEvents(canary, baseline []float64, ev *Events, cfg Config) Result {
	// A configuration the judge cannot apply judges nothing: an unknown
	// direction would otherwise pass every canary.
	invalid := cfg.Validate()
	cfg = cfg.WithDefaults()
	x, dx := clean(canary, cfg.NaN)
	y, dy := clean(baseline, cfg.NaN)
	// Nothing below depends on the order of the samples; sorted once, the
	// sorts of the tests find them sorted (pdqsort: linear).
	slices.Sort(x)
	slices.Sort(y)
	r := Result{
		Name: cfg.Name, Weight: cfg.Weight, Group: cfg.Group,
		Canary: Summarize(x), Baseline: Summarize(y),
		EffectSize: Value(math.NaN()), Deviation: Value(math.NaN()),
	}
	r.Canary.Dropped, r.Baseline.Dropped = dx, dy
	noData := func(reason string) Result {
		r.Classification, r.DecidedBy, r.Reason, r.Critical = NoData, ByNoData, reason, cfg.Critical
		r.Deviation = 1
		return r
	}
	pass := func(reason string) Result {
		r.Classification, r.DecidedBy, r.Reason = Pass, ByIdentical, reason
		r.Deviation = 1
		return r
	}
	switch {
	case invalid != nil:
		return noData("invalid configuration: " + invalid.Error())
	case len(x) == 0 && len(y) == 0:
		return noData("no samples on either side")
	case len(x) == 0 || len(y) == 0:
		if cfg.NaN == Replace {
			return pass("one side has no samples; nan strategy replace takes that as nothing happened")
		}
		side := "canary"
		if len(y) == 0 {
			side = "baseline"
		}
		return noData("no samples for the " + side)
	case len(x) < cfg.MinSamples || len(y) < cfg.MinSamples:
		return noData(fmt.Sprintf("too few samples: canary %d, baseline %d, need %d a side", len(x), len(y), cfg.MinSamples))
	}
	sx, sy := x, y
	if slices.Equal(sx, sy) {
		return pass("the canary and baseline samples are identical")
	}
	if sx[0] == sx[len(sx)-1] && sy[0] == sy[len(sy)-1] && sx[0] == sy[0] {
		return pass("every sample has the same value")
	}

	mw := MannWhitneyTest(x, y, cfg.Confidence)
	r.MannWhitney = &mw
	half := cfg.Tolerance * math.Abs(mw.Estimate)
	r.Band = &Band{Lower: -half, Upper: half}
	r.Deviation = Value(meanRatio(x, y))
	r.EffectMeasure = cfg.EffectSize
	if cfg.EffectSize == CLES {
		r.EffectSize = Value(mw.U / (float64(len(x)) * float64(len(y))))
	} else {
		r.EffectSize = r.Deviation
	}
	effect := float64(r.EffectSize)
	up := cfg.Direction == Increase || cfg.Direction == Either
	down := cfg.Direction == Decrease || cfg.Direction == Either
	r.Classification, r.DecidedBy = Pass, ByMannWhitney
	switch {
	case up && mw.Lower > half && (math.IsNaN(effect) || effect >= cfg.AllowedIncrease):
		r.Classification = High
		r.Reason = fmt.Sprintf("the shift's %g%% interval [%.4g, %.4g] lies above the band ±%.4g", 100*cfg.Confidence, mw.Lower, mw.Upper, half)
		r.Critical = cfg.Critical && (math.IsNaN(effect) || effect >= cfg.CriticalIncrease)
	case down && mw.Upper < -half && (math.IsNaN(effect) || effect <= cfg.AllowedDecrease):
		r.Classification = Low
		r.Reason = fmt.Sprintf("the shift's %g%% interval [%.4g, %.4g] lies below the band ±%.4g", 100*cfg.Confidence, mw.Lower, mw.Upper, half)
		r.Critical = cfg.Critical && (math.IsNaN(effect) || effect <= cfg.CriticalDecrease)
	}
	if r.Classification != Pass || cfg.MannWhitneyOnly {
		return r
	}

	// The added tests measure their effect in their own terms — the
	// spread ratio, the event-rate ratio — against the same allowance: an
	// allowed increase of 5 lets a canary whose spread or event rate grew
	// less than 5 times pass. An allowance in CLES has no ratio; the
	// canary's CLES must then reach it.
	incr, decr := cfg.AllowedIncrease, cfg.AllowedDecrease
	if cfg.EffectSize == CLES {
		if incr > 0.5 && effect < incr {
			up = false
		}
		if decr < 0.5 && effect > decr {
			down = false
		}
		incr, decr = 1, 1
	}
	alpha := 1 - cfg.Confidence
	if cfg.Type == Count {
		var c Rates
		switch {
		case ev == nil:
			c = CountTest(x, y, incr, decr)
		case ev.CanaryExposure > 0 && ev.BaselineExposure > 0:
			c = RateTest(*ev, incr, decr)
		}
		r.Rates = &c
		switch {
		case up && c.PHigher >= cfg.Confidence:
			r.Classification, r.DecidedBy = High, ByCount
			r.Reason = fmt.Sprintf("the canary's event rate is higher (%g events against %g; P = %.4f)", c.Canary, c.Baseline, c.PHigher)
		case down && c.PLower >= cfg.Confidence:
			r.Classification, r.DecidedBy = Low, ByCount
			r.Reason = fmt.Sprintf("the canary's event rate is lower (%g events against %g; P = %.4f)", c.Canary, c.Baseline, c.PLower)
		}
	} else if up {
		d := BrownForsythe(x, y)
		r.Dispersion = &d
		if d.PGreater < alpha && float64(d.Ratio) >= math.Max(cfg.AllowedSpread, incr) {
			r.Classification, r.DecidedBy = High, ByDispersion
			r.Reason = fmt.Sprintf("the canary's spread grew %.3g times (Brown-Forsythe p = %.3g)", float64(d.Ratio), d.PGreater)
		}
	}
	if r.Classification != Pass {
		r.Critical = cfg.Critical
	}
	return r
}

// meanRatio is the canary's mean over the baseline's; NaN when either is 0.
func meanRatio(x, y []float64) float64 {
	mx, my := mean(x), mean(y)
	if mx == 0 || my == 0 {
		return math.NaN()
	}
	return mx / my
}
