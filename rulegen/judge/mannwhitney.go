package judge

import (
	"math"
	"slices"
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

func mannWhitney(x, y []float64, confidence float64, method string) MannWhitney {
	m, n := len(x), len(y)
	xs, ys := sortedCopy(x), sortedCopy(y)
	mn := float64(m) * float64(n)
	N := float64(m + n)

	u, ties := uStatistic(xs, ys)
	res := MannWhitney{U: u, Confidence: confidence}
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
		a, b := d.kthPair(total / 2)
		res.Estimate = (a + b) / 2
	}
	return res
}

// uStatistic counts, over sorted samples, the pairs with x > y plus half
// the pairs with x = y, and Σ(t³ - t) over the groups of equal values of
// both samples together.
func uStatistic(xs, ys []float64) (u, ties float64) {
	i, j := 0, 0
	for i < len(xs) || j < len(ys) {
		var v float64
		switch {
		case j == len(ys) || (i < len(xs) && xs[i] < ys[j]):
			v = xs[i]
		default:
			v = ys[j]
		}
		ci, cj := 0, 0
		for i < len(xs) && xs[i] == v {
			i++
			ci++
		}
		for j < len(ys) && ys[j] == v {
			j++
			cj++
		}
		// The ci canary values equal to v lie above the j-cj baseline
		// values already passed and tie with the cj equal ones.
		u += float64(ci) * (float64(j-cj) + float64(cj)/2)
		if t := float64(ci + cj); t > 1 {
			ties += t*t*t - t
		}
	}
	return u, ties
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

// kth is the k-th smallest difference (1-based, clamped to the range).
// It cuts the values between the smallest and the largest difference
// (probe) until few differences remain in the bracket, then sorts those;
// a bracket that no float64 splits holds one value, the answer.
func (d diffs) kth(k int) float64 {
	m, n := len(d.x), len(d.y)
	lo := d.x[0] - d.y[n-1]
	hi := d.x[m-1] - d.y[0]
	if k <= 1 {
		return lo
	}
	if k >= m*n {
		return hi
	}
	// Invariant: count(a) < k <= count(b).
	a, b := math.Nextafter(lo, math.Inf(-1)), hi
	ca, cb := 0, m*n
	limit := max((m+n)/8, 256)
	for iter := 0; cb-ca > limit; iter++ {
		mid := probe(iter, a, b, ca, cb, k, limit)
		if mid <= a || mid >= b {
			return b
		}
		if c := d.countAtMost(mid); c >= k {
			b, cb = mid, c
		} else {
			a, ca = mid, c
		}
	}
	return d.inBracket(a, b, k-ca)
}

// probe is where the bracket (a, b], holding the differences ca+1..cb, is
// cut next: where a straight line through its ends puts the differences a
// quarter of limit below k and then above it — two cuts that leave about
// limit/2 of them for smooth data — and every third time in its middle,
// which halves it whatever the data.
func probe(iter int, a, b float64, ca, cb, k, limit int) float64 {
	target := k - limit/4
	switch iter % 3 {
	case 1:
		target = k + limit/4
	case 2:
		return a + (b-a)/2
	}
	f := float64(target-ca) / float64(cb-ca)
	f = min(max(f, 1.0/64), 63.0/64)
	mid := a + (b-a)*f
	if mid <= a || mid >= b {
		return a + (b-a)/2
	}
	return mid
}

// kthPair is the k-th and the (k+1)-th smallest differences, 1 <= k <
// mn: the bisection of kth, until a bracket holds both or a value lies
// between them.
func (d diffs) kthPair(k int) (float64, float64) {
	m, n := len(d.x), len(d.y)
	a, b := math.Nextafter(d.x[0]-d.y[n-1], math.Inf(-1)), d.x[m-1]-d.y[0]
	ca, cb := 0, m*n
	limit := max((m+n)/8, 256)
	for iter := 0; cb-ca > limit; iter++ {
		mid := probe(iter, a, b, ca, cb, k, limit)
		if mid <= a || mid >= b {
			return b, b
		}
		switch c := d.countAtMost(mid); {
		case c >= k+1:
			b, cb = mid, c
		case c < k:
			a, ca = mid, c
		default:
			// Exactly k differences are at most mid.
			return d.maxAtMost(mid), d.minAbove(mid)
		}
	}
	return d.inBracket(a, b, k-ca), d.inBracket(a, b, k+1-ca)
}

// maxAtMost is the largest difference at most t; minAbove the smallest
// above t. Both exist when some difference lies on each side.
func (d diffs) maxAtMost(t float64) float64 {
	n := len(d.y)
	best := math.Inf(-1)
	j := 0
	for _, xi := range d.x {
		for j < n && xi-d.y[j] > t {
			j++
		}
		if j < n {
			best = math.Max(best, xi-d.y[j])
		}
	}
	return best
}

func (d diffs) minAbove(t float64) float64 {
	n := len(d.y)
	best := math.Inf(1)
	j := 0
	for _, xi := range d.x {
		for j < n && xi-d.y[j] > t {
			j++
		}
		if j > 0 {
			best = math.Min(best, xi-d.y[j-1])
		}
	}
	return best
}

// inBracket is the k-th smallest of the differences in (a, b].
func (d diffs) inBracket(a, b float64, k int) float64 {
	n := len(d.y)
	var vals []float64
	jb, ja := 0, 0
	for _, xi := range d.x {
		for jb < n && xi-d.y[jb] > b {
			jb++
		}
		for ja < n && xi-d.y[ja] > a {
			ja++
		}
		for j := jb; j < ja; j++ {
			vals = append(vals, xi-d.y[j])
		}
	}
	slices.Sort(vals)
	return vals[k-1]
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
