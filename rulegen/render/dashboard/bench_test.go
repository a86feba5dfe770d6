package dashboard_test

import (
	"testing"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/dashboard"
	"github.com/redline-sre/redline/rulegen/spec"
)

// BenchmarkRenderAndValidate measures the dashboard step of `rulegen
// generate` for the default spec: build, encode, read back and check.
func BenchmarkRenderAndValidate(b *testing.B) {
	s, err := spec.Default()
	if err != nil {
		b.Fatal(err)
	}
	m, err := model.Build(s, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f, err := dashboard.Render(m)
		if err != nil {
			b.Fatal(err)
		}
		if err := dashboard.Validate(f.Data); err != nil {
			b.Fatal(err)
		}
	}
}
