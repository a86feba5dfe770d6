package spec_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/spec"
)

// FuzzLoad feeds arbitrary bytes to the loader. A spec is either rejected
// with positioned errors or accepted, and every accepted spec generates
// files that Prometheus's and Alertmanager's own loaders accept: Generate
// failing for any reason on a spec Load accepted is a bug of Load. `go test` runs
// the seed corpus (testdata/*.yml, the built-in spec, testdata/fuzz).
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(spec.DefaultSpec)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := spec.Load("fuzz.yml", data)
		if err != nil {
			var list spec.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not an ErrorList: %v", err)
			}
			for _, e := range list {
				if !strings.HasPrefix(e.Error(), "fuzz.yml") {
					t.Fatalf("error does not name the file: %q", e)
				}
			}
			return
		}
		if _, err := rulegen.Generate(s, "fuzz.yml"); err != nil {
			t.Fatalf("Load accepted a spec that does not generate (Load must reject it with a positioned error): %v", err)
		}
	})
}
