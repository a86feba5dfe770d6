package spec

import (
	"math/big"
	"strconv"

	"github.com/redline-sre/redline/internal/hint"
)

// Judge is the canary: section's judge: which signals `rulegen judge`
// compares between the tracks, how, and the score thresholds.
type Judge struct {
	// Signals lists the signals judged, each with its settings; empty,
	// every signal the canary compares is judged with the defaults.
	Signals []JudgeSignal `yaml:"signals"`
	// Pass and Marginal are the score thresholds (defaults 95 and 75):
	// a stage passes at or above Pass, is marginal at or above Marginal.
	Pass     *Quantity `yaml:"pass"`
	Marginal *Quantity `yaml:"marginal"`
}

// JudgeSignal is one judged signal.
type JudgeSignal struct {
	Signal string `yaml:"signal"`
	// Direction is the bad change: increase, decrease or either (default:
	// the signal's violation, > or >= being increase).
	Direction string `yaml:"direction"`
	// Confidence of the interval (default 98%).
	Confidence *Quantity `yaml:"confidence"`
	// AllowedIncrease and AllowedDecrease are the canary/baseline ratios
	// of means still passed (1.1: 10% worse passes).
	AllowedIncrease *Quantity `yaml:"allowed_increase"`
	AllowedDecrease *Quantity `yaml:"allowed_decrease"`
	// Critical makes a High (or Low) of this signal fail the stage alone.
	Critical bool `yaml:"critical"`
	// Weight in the score (default 1).
	Weight *Quantity `yaml:"weight"`
	// MinSamples is the fewest samples a track needs (default 5); fewer
	// is no data.
	MinSamples *Quantity `yaml:"min_samples"`
}

// Judge directions.
const (
	DirectionIncrease = "increase"
	DirectionDecrease = "decrease"
	DirectionEither   = "either"
)

var directions = []string{DirectionIncrease, DirectionDecrease, DirectionEither}

// Float returns the quantity as a float64 (0 for nil).
func (q *Quantity) Float() float64 {
	if q == nil || q.rat == nil {
		return 0
	}
	f, _ := q.rat.Float64()
	return f
}

func (v *validator) judge(c *Canary) {
	j := c.Judge
	if j == nil {
		return
	}
	number := func(path string, q *Quantity, lo, hi *big.Rat, loOpen, hiOpen bool, what string) bool {
		if q == nil {
			return true
		}
		r := q.Rat()
		bad := q.Kind == Seconds || (lo != nil && (r.Cmp(lo) < 0 || loOpen && r.Cmp(lo) == 0)) ||
			(hi != nil && (r.Cmp(hi) > 0 || hiOpen && r.Cmp(hi) == 0))
		if bad {
			v.errorf(path, "%s, got %s", what, q.Text)
			return false
		}
		return true
	}
	zero, one, hundred := new(big.Rat), big.NewRat(1, 1), big.NewRat(100, 1)
	okPass := number("canary.judge.pass", j.Pass, zero, hundred, false, false, "pass is a score from 0 to 100")
	okMarg := number("canary.judge.marginal", j.Marginal, zero, hundred, false, false, "marginal is a score from 0 to 100")
	if okPass && okMarg && j.Pass != nil && j.Marginal != nil && j.Marginal.Rat().Cmp(j.Pass.Rat()) > 0 {
		v.errorf("canary.judge.marginal", "marginal (%s) cannot be above pass (%s)", j.Marginal.Text, j.Pass.Text)
	}
	seen := map[string]bool{}
	for i := range j.Signals {
		js := &j.Signals[i]
		p := "canary.judge.signals[" + strconv.Itoa(i) + "]"
		switch sig := v.s.SignalByName(js.Signal); {
		case js.Signal == "":
			v.missing(p, "signal")
		case sig == nil:
			v.errorf(p+".signal", "unknown signal %q", js.Signal)
		case !sig.ComparesTracks():
			v.errorf(p+".signal", "signal %q is a %s signal: the canary compares ratio and latency signals between the tracks", js.Signal, sig.Kind)
		case seen[js.Signal]:
			v.errorf(p+".signal", "signal %q is judged twice", js.Signal)
		}
		seen[js.Signal] = true
		if js.Direction != "" && !oneOf(js.Direction, directions) {
			msg := "direction is increase, decrease or either, got %q"
			if s := hint.Closest(js.Direction, directions); s != "" {
				msg += "; did you mean " + strconv.Quote(s) + "?"
			}
			v.errorf(p+".direction", msg, js.Direction)
		}
		number(p+".confidence", js.Confidence, big.NewRat(1, 2), one, true, true, "confidence is between 50% and 100%, such as 98% or 0.98")
		number(p+".allowed_increase", js.AllowedIncrease, one, nil, false, false, "allowed_increase is a ratio of at least 1 (1.1: a 10% higher canary passes)")
		number(p+".allowed_decrease", js.AllowedDecrease, zero, one, true, false, "allowed_decrease is a ratio above 0 and at most 1 (0.9: a 10% lower canary passes)")
		number(p+".weight", js.Weight, zero, nil, true, false, "weight is a number above 0")
		if number(p+".min_samples", js.MinSamples, one, big.NewRat(100000, 1), false, false, "min_samples is a whole number from 1") && js.MinSamples != nil && !js.MinSamples.Rat().IsInt() {
			v.errorf(p+".min_samples", "min_samples is a whole number, got %s", js.MinSamples.Text)
		}
	}
}
