package judge

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time: on a shared machine
// the wall time of an operation measures the neighbours too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkClassify10k judges one metric of 10,000 samples a side (the
// budget is 50 ms): go test -run '^$' -bench Classify10k ./rulegen/judge/
func BenchmarkClassify10k(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 1))
	x, y := lognormal(r, 10000, 0.21, 0.25), lognormal(r, 10000, 0.2, 0.25)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if res := Classify(x, y, Config{Direction: Increase}); res.MannWhitney == nil {
			b.Fatal("not compared")
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// TestOrderStatistics checks the selection of pairwise differences
// against sorting all of them, with ties and without, and the U statistic
// and tie term against ranking the pooled samples.
func TestOrderStatistics(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 1))
	for trial := 0; trial < 60; trial++ {
		m, n := 1+r.IntN(120), 1+r.IntN(120)
		gen := func(k int) []float64 {
			v := make([]float64, k)
			for i := range v {
				if trial%2 == 0 {
					v[i] = float64(r.IntN(7)) // heavy ties
				} else {
					v[i] = r.NormFloat64() * 1e-3
				}
			}
			return v
		}
		x, y := gen(m), gen(n)
		xs, ys := sortedCopy(x), sortedCopy(y)
		var all []float64
		for _, a := range xs {
			for _, b := range ys {
				all = append(all, a-b)
			}
		}
		all = sortedCopy(all)
		d := diffs{xs, ys}
		for _, k := range []int{1, 2, m * n / 3, m * n / 2, m*n/2 + 1, m * n} {
			if k < 1 {
				continue
			}
			if got := d.kth(k); got != all[k-1] {
				t.Fatalf("m=%d n=%d k=%d: kth %v, want %v", m, n, k, got, all[k-1])
			}
			if k < m*n {
				a, b := d.kthPair(k)
				if a != all[k-1] || b != all[k] {
					t.Fatalf("m=%d n=%d k=%d: pair %v %v, want %v %v", m, n, k, a, b, all[k-1], all[k])
				}
			}
		}
		u, ties := uStatistic(xs, ys)
		rk, wantTies := ranks(append(append([]float64{}, x...), y...))
		var r1 float64
		for i := 0; i < m; i++ {
			r1 += rk[i]
		}
		if wantU := r1 - float64(m*(m+1))/2; u != wantU || ties != wantTies {
			t.Fatalf("U %v ties %v, want %v %v", u, ties, wantU, wantTies)
		}
	}
}
