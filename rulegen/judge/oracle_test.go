package judge

import (
	"math"
	"sort"
)

// Kayenta's own statistics that the judge does not use, kept here as
// oracles: the tests compare the judge's results and Kayenta's fixtures
// with them.

// ClassifyMeans is Kayenta's MeanInequalityClassifier, its benchmark for
// the statistical one: High when the canary's mean is higher, Low when
// lower. It has no notion of noise; use it to compare, not to judge.
func ClassifyMeans(canary, baseline []float64, dir Direction) Classification {
	if len(canary) == 0 || len(baseline) == 0 {
		return NoData
	}
	mc, mb := mean(canary), mean(baseline)
	switch {
	case (dir == Increase || dir == Either || dir == "") && mc > mb:
		return High
	case (dir == Decrease || dir == Either || dir == "") && mc < mb:
		return Low
	}
	return Pass
}

// CohenD is the absolute difference of the means over the pooled standard
// deviation.
func CohenD(canary, baseline []float64) float64 {
	nx, ny := float64(len(canary)), float64(len(baseline))
	sx, sy := stddev(canary), stddev(baseline)
	pooled := math.Sqrt(((nx-1)*sx*sx + (ny-1)*sy*sy) / (nx + ny - 2))
	return math.Abs(mean(canary)-mean(baseline)) / pooled
}

// normalInterval is the test with the normal approximation whatever the
// sizes: Kayenta's method.
func normalInterval(x, y []float64, confidence float64) MannWhitney {
	return mannWhitney(x, y, confidence, MethodNormal)
}

// WilcoxonDiff is R's (and Kayenta's) wdiff: the continuity-corrected
// standardized rank statistic of x - mu against y, minus zq. Its roots in
// mu are the ends of the interval; MannWhitneyTest finds them without
// it, and the tests compare the two.
func WilcoxonDiff(mu, zq float64, x, y []float64) float64 {
	m, n := float64(len(x)), float64(len(y))
	all := make([]float64, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, v-mu)
	}
	all = append(all, y...)
	r, ties := ranks(all)
	var sx float64
	for i := range x {
		sx += r[i]
	}
	dz := sx - m*(m+1)/2 - m*n/2
	corr := 0.0
	switch {
	case dz > 0:
		corr = 0.5
	case dz < 0:
		corr = -0.5
	}
	N := m + n
	sigma := math.Sqrt(m * n / 12 * ((N + 1) - ties/(N*(N-1))))
	return (dz-corr)/sigma - zq
}

// ranks returns the 1-based ranks of v with ties given their average rank,
// and the tie term Σ(t³ - t) over the groups of tied values.
func ranks(v []float64) (r []float64, ties float64) {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r = make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		if t := float64(j - i); t > 1 {
			ties += t*t*t - t
		}
		i = j
	}
	return r, ties
}
