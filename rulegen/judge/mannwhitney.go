package judge

import (
	"math"
	"sort"
)

// Test methods of a MannWhitney result.
const (
	// MethodExact uses the permutation distribution of U: for samples
	// without ties when both are smaller than ExactBelow (R's rule).
	MethodExact = "exact"
	// MethodNormal is the normal approximation with the tie and the
	// continuity corrections.
	MethodNormal = "normal"
)

// ExactBelow is the sample size from which the normal approximation is
// used even without ties.
const ExactBelow = 50

// MannWhitney is the two-sided Mann-Whitney U (Wilcoxon rank-sum) test of
// a canary sample x against a baseline sample y, with the Hodges-Lehmann
// estimate of the shift x - y and its distribution-free confidence
// interval, as R's wilcox.test(x, y, conf.int = TRUE) computes them.
type MannWhitney struct {
	// U is the canary's statistic: the pairs (x, y) with x > y, plus half
	// the pairs with x = y.
	U float64 `json:"u"`
	// P is the two-sided p-value of "no shift".
	P      float64 `json:"p"`
	Method string  `json:"method"`
	// Estimate is the median of the pairwise differences x_i - y_j.
	Estimate float64 `json:"estimate"`
	// Lower and Upper bound the shift at Confidence.
	Lower      float64 `json:"lower"`
	Upper      float64 `json:"upper"`
	Confidence float64 `json:"confidence"`
}

// MannWhitneyTest runs the test. Both samples must be non-empty and free
// of NaN and infinities. The pairwise differences are never built: their
// order statistics are selected from the sorted samples, so 10,000 values
// a side cost a few milliseconds.
func MannWhitneyTest(x, y []float64, confidence float64) MannWhitney {
	return mannWhitney(x, y, confidence, "")
}

// normalInterval is the test with the normal approximation whatever the
// sizes: Kayenta's method.
func normalInterval(x, y []float64, confidence float64) MannWhitney {
	return mannWhitney(x, y, confidence, MethodNormal)
}

func mannWhitney(x, y []float64, confidence float64, method string) MannWhitney {
	m, n := len(x), len(y)
	xs, ys := sortedCopy(x), sortedCopy(y)
	mn := float64(m) * float64(n)
	N := float64(m + n)

	all := append(append(make([]float64, 0, m+n), x...), y...)
	r, ties := ranks(all)
	var r1 float64
	for i := 0; i < m; i++ {
		r1 += r[i]
	}
	res := MannWhitney{U: r1 - float64(m)*float64(m+1)/2, Confidence: confidence}
	alpha := 1 - confidence
	d := diffs{xs, ys}

	if method != MethodNormal && ties == 0 && m < ExactBelow && n < ExactBelow {
		res.Method = MethodExact
		dist := uDistribution(m, n)
		umax := math.Max(res.U, mn-res.U)
		var tail float64
		for u := int(math.Ceil(umax)); u < len(dist); u++ {
			tail += dist[u]
		}
		res.P = math.Min(1, 2*tail)
		// R: qu = qwilcox(alpha/2), the smallest q with P(U <= q) >= alpha/2.
		qu, cum := 0, 0.0
		for qu = range dist {
			cum += dist[qu]
			if cum >= alpha/2 {
				break
			}
		}
		if qu == 0 {
			qu = 1
		}
		ql := int(mn) - qu
		res.Lower, res.Upper = d.kth(qu), d.kth(ql+1)
	} else {
		res.Method = MethodNormal
		sigma := math.Sqrt(mn / 12 * ((N + 1) - ties/(N*(N-1))))
		if sigma == 0 {
			res.P = 1
		} else {
			z := (math.Max(res.U, mn-res.U) - mn/2 - 0.5) / sigma
			res.P = math.Min(1, 2*normSF(z))
		}
		// Between two consecutive pairwise differences the shifted samples
		// share no value, so only the ties within each sample correct the
		// variance, and R's wdiff(mu) depends on mu only through the count
		// of differences above mu: each root is an order statistic.
		sigma0 := math.Sqrt(mn / 12 * ((N + 1) - (tieTerm(xs)+tieTerm(ys))/(N*(N-1))))
		z := NormalQuantile(1 - alpha/2)
		res.Lower = d.kth(int(mn) - maxCount(mn, sigma0, z))
		res.Upper = d.kth(int(mn) - maxCount(mn, sigma0, -z))
	}
	total := int(mn)
	if total%2 == 1 {
		res.Estimate = d.kth((total + 1) / 2)
	} else {
		res.Estimate = (d.kth(total/2) + d.kth(total/2+1)) / 2
	}
	return res
}

// maxCount is the largest count c of differences above mu for which R's
// continuity-corrected standardized statistic
// (c - mn/2 - sign(c - mn/2)/2) / sigma is at most zq; -1 when there is
// none. The statistic does not decrease as c grows.
func maxCount(mn, sigma, zq float64) int {
	g := func(c int) float64 {
		dz := float64(c) - mn/2
		s := 0.0
		switch {
		case dz > 0:
			s = 0.5
		case dz < 0:
			s = -0.5
		}
		return (dz - s) / sigma
	}
	// The first c in [0, mn] with g(c) > zq; the answer is the one before.
	first := sort.Search(int(mn)+1, func(c int) bool { return g(c) > zq })
	return first - 1
}

// diffs are the pairwise differences x_i - y_j of two sorted samples.
type diffs struct{ x, y []float64 }

// countAtMost counts the differences at most t. For ascending x the
// y_j with x_i - y_j <= t are a suffix of y that starts no earlier for the
// next x_i, so one pass over both samples counts them all. The comparison
// is of the rounded difference itself, the value kth returns.
func (d diffs) countAtMost(t float64) int {
	n := len(d.y)
	j, c := 0, 0
	for _, xi := range d.x {
		for j < n && xi-d.y[j] > t {
			j++
		}
		c += n - j
	}
	return c
}

// kth is the k-th smallest difference (1-based, clamped to the range): a
// bisection over the float64 values between the smallest and the largest
// difference, ordered as integers, so it ends on a difference exactly.
func (d diffs) kth(k int) float64 {
	lo := d.x[0] - d.y[len(d.y)-1]
	hi := d.x[len(d.x)-1] - d.y[0]
	if k <= 1 {
		return lo
	}
	if k >= len(d.x)*len(d.y) {
		return hi
	}
	a, b := floatKey(lo), floatKey(hi)
	// Invariant: count(key a) may be < k, count(key b) >= k.
	if d.countAtMost(lo) >= k {
		return lo
	}
	for b-a > 1 {
		mid := a + (b-a)/2
		if d.countAtMost(keyFloat(mid)) >= k {
			b = mid
		} else {
			a = mid
		}
	}
	return keyFloat(b)
}

// floatKey maps float64 values to integers in the same order.
func floatKey(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func keyFloat(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// uDistribution is the null distribution of U for samples of m and n
// values without ties: P(U = u) for u = 0..mn. Choosing the canary's
// positions among the m+n ranks one position at a time, a canary value at
// position t after j others adds t-1-j baseline values below it to U.
// Counts only add, so they stay exact up to 2^53 and accurate beyond.
func uDistribution(m, n int) []float64 {
	mn := m * n
	dp := make([][]float64, m+1)
	for j := range dp {
		dp[j] = make([]float64, mn+1)
	}
	dp[0][0] = 1
	for t := 1; t <= m+n; t++ {
		hiJ := min(t-1, m-1)
		for j := hiJ; j >= 0; j-- {
			add := t - 1 - j
			if add > n {
				continue
			}
			src, dst := dp[j], dp[j+1]
			for s := mn - add; s >= 0; s-- {
				if src[s] != 0 {
					dst[s+add] += src[s]
				}
			}
		}
	}
	var total float64
	for _, c := range dp[m] {
		total += c
	}
	out := dp[m]
	for u := range out {
		out[u] /= total
	}
	return out
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
