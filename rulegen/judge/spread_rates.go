package judge

import (
	"math"
)

// Dispersion is the Brown-Forsythe test (Levene's test around the
// medians) of the canary's spread against the baseline's: an analysis of
// variance of the absolute deviations from each sample's median, which a
// heavy tail does not fool as it fools the F test of variances.
type Dispersion struct {
	// F is the statistic, with 1 and N-2 degrees of freedom (+Inf, null
	// in JSON, when the deviations vary only between the tracks).
	F Value `json:"f"`
	// P is the two-sided p-value (as scipy.stats.levene(center="median")).
	P float64 `json:"p"`
	// PGreater is the one-sided p-value of "the canary spreads more".
	PGreater float64 `json:"p_greater"`
	// Ratio is the canary's mean absolute deviation from its median over
	// the baseline's (+Inf when the baseline does not vary).
	Ratio Value `json:"ratio"`
}

// BrownForsythe runs the test; both samples need two values or more.
func BrownForsythe(x, y []float64) Dispersion {
	zx, zy := absDev(x), absDev(y)
	mx, my := mean(zx), mean(zy)
	nx, ny := float64(len(zx)), float64(len(zy))
	N := nx + ny
	grand := (mx*nx + my*ny) / N
	between := nx*(mx-grand)*(mx-grand) + ny*(my-grand)*(my-grand)
	var within float64
	for _, z := range zx {
		within += (z - mx) * (z - mx)
	}
	for _, z := range zy {
		within += (z - my) * (z - my)
	}
	d := Dispersion{Ratio: Value(math.Inf(1))}
	if my > 0 {
		d.Ratio = Value(mx / my)
	} else if mx == 0 {
		d.Ratio = 1
	}
	if within == 0 {
		// No variation of the deviations inside either sample: equal
		// spreads say nothing, unequal ones are as clear as can be.
		if between == 0 {
			d.F, d.P, d.PGreater = 0, 1, 1
			return d
		}
		d.F, d.P = Value(math.Inf(1)), 0
	} else {
		f := between / (within / (N - 2))
		d.F, d.P = Value(f), fSF(f, 1, N-2)
	}
	// With two groups F = t², so half the two-sided p is the one-sided
	// p of the side the sample means lie on.
	if mx > my {
		d.PGreater = d.P / 2
	} else {
		d.PGreater = 1 - d.P/2
	}
	return d
}

func absDev(v []float64) []float64 {
	med := quantileSorted(sortedCopy(v), 0.5)
	z := make([]float64, len(v))
	for i, x := range v {
		z[i] = math.Abs(x - med)
	}
	return z
}

// Rates compares event counts per sample, as Poisson rates: the canary's
// rate λc against the baseline's λb, each sample one unit of exposure.
type Rates struct {
	Canary   float64 `json:"canary_events"`
	Baseline float64 `json:"baseline_events"`
	// Ratio is the canary's rate over the baseline's (+Inf when the
	// baseline had none).
	Ratio Value `json:"ratio"`
	// PHigher and PLower are the posterior probabilities, under Jeffreys'
	// priors, that λc > allowed_increase·λb and λc < allowed_decrease·λb.
	PHigher float64 `json:"p_higher"`
	PLower  float64 `json:"p_lower"`
}

// Events are a metric's event counts over the window with their
// exposures (requests), for a Count metric whose samples are not counts
// themselves (a ratio's errors over its requests).
type Events struct {
	Canary           float64 `json:"canary"`
	Baseline         float64 `json:"baseline"`
	CanaryExposure   float64 `json:"canary_exposure"`
	BaselineExposure float64 `json:"baseline_exposure"`
}

// CountTest compares samples that are counts, each sample one unit of
// exposure.
func CountTest(x, y []float64, allowedIncrease, allowedDecrease float64) Rates {
	var kc, kb float64
	for _, v := range x {
		kc += v
	}
	for _, v := range y {
		kb += v
	}
	return RateTest(Events{kc, kb, float64(len(x)), float64(len(y))}, allowedIncrease, allowedDecrease)
}

// RateTest compares the event rates. With Jeffreys' prior Gamma(½) each
// rate's posterior is Gamma(k + ½, exposure), and λc/λb > a exactly when a
// Beta(kc + ½, kb + ½) variable exceeds a·nc / (a·nc + nb). Jeffreys'
// intervals hold their nominal level closely for small counts, where the
// exact conditional (binomial) test cannot reach it: 4 events against
// none in six samples each has a smallest possible p of 1/16.
func RateTest(e Events, allowedIncrease, allowedDecrease float64) Rates {
	kc, kb, nc, nb := e.Canary, e.Baseline, e.CanaryExposure, e.BaselineExposure
	c := Rates{Canary: kc, Baseline: kb}
	switch {
	case kb > 0:
		c.Ratio = Value((kc / nc) / (kb / nb))
	case kc > 0:
		c.Ratio = Value(math.Inf(1))
	default:
		c.Ratio = 1
	}
	above := func(a float64) float64 {
		t := a * nc / (a*nc + nb)
		return 1 - betaInc(t, kc+0.5, kb+0.5)
	}
	c.PHigher = above(allowedIncrease)
	c.PLower = 1 - above(allowedDecrease)
	return c
}
