package rulegen_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/spec"
)

// syntheticSpec builds a spec with n signals of every kind, a trigger per
// signal and an SLO per ratio signal.
func syntheticSpec(n int) []byte {
	var b strings.Builder
	b.WriteString("version: redline/v1\nservice: big\nselectors:\n  app: job=\"big\"\nsignals:\n")
	var triggers, slos strings.Builder
	for i := range n {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "  - {name: s%d, kind: ratio, errors: 'req%d_total{${app}, code=~\"5..\"}', total: 'req%d_total{${app}}', threshold: 1%%, min_rate: 0.1}\n", i, i, i)
			if i%40 == 0 {
				fmt.Fprintf(&slos, "  - {name: slo%d, signal: s%d, objective: 99.9%%}\n", i, i)
			}
		case 1:
			fmt.Fprintf(&b, "  - {name: s%d, kind: latency, histogram: 'lat%d_seconds{${app}}', quantile: 0.95, threshold: 250ms, bucket: true}\n", i, i)
		case 2:
			fmt.Fprintf(&b, "  - {name: s%d, kind: gauge, metric: 'gauge%d{${app}}', by: [pod], threshold: 30s}\n", i, i)
		case 3:
			fmt.Fprintf(&b, "  - {name: s%d, kind: rate, counter: 'events%d_total{${app}}', threshold: 5}\n", i, i)
		}
		fmt.Fprintf(&triggers, "  - {name: T%d, signal: s%d, for: 5m, action: rollback}\n", i, i)
	}
	b.WriteString("triggers:\n" + triggers.String())
	b.WriteString("slos:\n" + slos.String())
	b.WriteString("alertmanager:\n  webhook_url: http://127.0.0.1:9095/hook\n")
	return []byte(b.String())
}

func benchmarkGenerate(b *testing.B, name string, data []byte) {
	b.ReportAllocs()
	var size int
	for b.Loop() {
		s, err := spec.Load(name, data)
		if err != nil {
			b.Fatal(err)
		}
		files, err := rulegen.Generate(s, name)
		if err != nil {
			b.Fatal(err)
		}
		size = 0
		for _, f := range files {
			size += len(f.Data)
		}
	}
	b.ReportMetric(float64(size), "bytes/op-output")
}

// BenchmarkGenerateDefault is `rulegen generate` on the platform spec minus
// process start-up: load, validate, build, render and validate all outputs.
func BenchmarkGenerateDefault(b *testing.B) {
	benchmarkGenerate(b, "platform", spec.DefaultSpec)
}

// BenchmarkGenerate500Signals measures a large synthetic spec.
func BenchmarkGenerate500Signals(b *testing.B) {
	benchmarkGenerate(b, "big", syntheticSpec(500))
}

func TestSyntheticSpecGenerates(t *testing.T) {
	s, err := spec.Load("big", syntheticSpec(20))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rulegen.Generate(s, "big"); err != nil {
		t.Fatal(err)
	}
}
