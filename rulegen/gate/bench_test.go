package gate_test

import (
	"context"

	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/spec"
)

// benchGate is the platform spec's gate against a local Prometheus that
// evaluates the committed platform rules and scrapes itself.
func benchGate(b *testing.B, ttl time.Duration) (*gate.Gate, *prometheus.Registry) {
	b.Helper()
	testenv.Binary(b, "prometheus")
	rules, err := filepath.Abs("../../rules/platform.rules.yml")
	if err != nil {
		b.Fatal(err)
	}
	prom := testenv.NewPrometheus(b, testenv.PrometheusOptions{RuleFiles: []string{rules}})
	s, err := spec.Load(spec.DefaultName, spec.DefaultSpec)
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.Build(s, spec.DefaultName)
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	g, err := gate.New(gate.Config{Model: m, Server: preflight.Server{URL: prom.URL}, CacheTTL: ttl, Registry: reg})
	if err != nil {
		b.Fatal(err)
	}
	// Prometheus answers once its first rule evaluation is in.
	time.Sleep(2 * time.Second)
	return g, reg
}

func report(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkVerdictEvaluation: every call evaluates the platform spec's
// checks and canary comparisons anew (no cache).
func BenchmarkVerdictEvaluation(b *testing.B) {
	g, _ := benchGate(b, time.Nanosecond)
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t := time.Now()
		g.Verdict(context.Background(), gate.Ask{Release: "bench", Stage: 1 + i%5})
		lat = append(lat, time.Since(t))
	}
	report(b, lat)
}

// BenchmarkVerdict50Callers: 50 callers poll one stage over HTTP as fast
// as they can, with the default 5s cache; it reports their latency and
// how many evaluations reached Prometheus.
func BenchmarkVerdict50Callers(b *testing.B) {
	g, reg := benchGate(b, 5*time.Second)
	srv := httptest.NewServer(g.Handler(reg))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	var wg sync.WaitGroup
	per := max(b.N/50, 1)
	for c := 0; c < 50; c++ {
		wg.Go(func() {
			for range per {
				t := time.Now()
				resp, err := client.Get(srv.URL + "/api/v1/verdict?release=bench&stage=3")
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				d := time.Since(t)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	report(b, lat)
	var evals float64
	for _, v := range []string{"GO", "NO_GO", "NO_DATA"} {
		evals += testutil.ToFloat64(counter(b, reg, v))
	}
	b.ReportMetric(evals, "evaluations")
	b.ReportMetric(float64(len(lat)), "requests")
}

func counter(b *testing.B, reg *prometheus.Registry, verdict string) prometheus.Collector {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
	for _, mf := range mfs {
		if mf.GetName() != "redline_gate_evaluations_total" {
			continue
		}
		for _, m := range mf.Metric {
			for _, l := range m.Label {
				if l.GetName() == "verdict" && l.GetValue() == verdict {
					c.Add(m.GetCounter().GetValue())
				}
			}
		}
	}
	return c
}
