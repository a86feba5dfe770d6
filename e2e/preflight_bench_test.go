package e2e

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/demo"
	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/spec"
)

// BenchmarkPreflightPlatform times one preflight of the platform spec —
// every derived and explicit check, evidence included — against the
// whole local stack once its recordings have data:
//
//	go test -run '^$' -bench PreflightPlatform -benchtime 10x ./e2e/
func BenchmarkPreflightPlatform(b *testing.B) {
	for _, bin := range []string{"initdb", "pgbouncer", "prometheus", "alertmanager"} {
		testenv.Binary(b, bin)
	}
	ctx := context.Background()
	dir := b.TempDir()
	s, err := demo.StartStack(ctx, demo.StackOptions{ExporterBin: exporterBin, Dir: dir, Interval: time.Second, Spec: demo.SpecOverrides{NewStack: true}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	if err := demo.CreateHealthyTable(ctx, s.TradingDSN, "accounts"); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "spec.yml"))
	if err != nil {
		b.Fatal(err)
	}
	sp, err := spec.Load("spec.yml", data)
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.Build(sp, "spec.yml")
	if err != nil {
		b.Fatal(err)
	}
	o := preflight.Options{Server: preflight.Server{URL: s.Prometheus.URL}, EvidenceDir: filepath.Join(dir, "evidence")}
	// Wait for the recordings: a preflight on an empty TSDB asks fewer
	// questions (each signal check stops at its first missing series).
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		rep, err := preflight.Run(ctx, m, o)
		if err != nil {
			b.Fatal(err)
		}
		if st := result(rep, "signal:http_errors"); st == preflight.GO {
			break
		}
	}
	queries := 0
	var last *preflight.Report
	b.ResetTimer()
	for b.Loop() {
		rep, err := preflight.Run(ctx, m, o)
		if err != nil {
			b.Fatal(err)
		}
		queries = 0
		for _, r := range rep.Results {
			queries += len(r.Queries)
		}
		last = rep
	}
	b.StopTimer()
	slowest := slices.Clone(last.Results)
	slices.SortFunc(slowest, func(x, y *preflight.Result) int { return cmp.Compare(y.Duration, x.Duration) })
	for _, r := range slowest[:5] {
		b.Logf("slowest: %s %s", r.Check, r.Duration)
	}
	b.ReportMetric(float64(queries), "queries/run")
	b.ReportMetric(float64(len(m.Alerts)), "alerts")
}

func result(rep *preflight.Report, check string) preflight.Status {
	for _, r := range rep.Results {
		if r.Check == check {
			return r.Status
		}
	}
	return preflight.Unknown
}
