// Package rulegen turns one spec into Prometheus rules, promtool unit tests,
// an Alertmanager route and a Grafana dashboard, and checks that committed
// files are current.
//
// The pipeline is spec (load, validate) → model (rules) → outputs (one
// writer per file format, each validated in-process). Adding a format is
// adding an Output to Outputs.
package rulegen

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/redline-sre/redline/rulegen/diff"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/amconfig"
	"github.com/redline-sre/redline/rulegen/render/argo"
	"github.com/redline-sre/redline/rulegen/render/dashboard"
	"github.com/redline-sre/redline/rulegen/render/flagger"
	"github.com/redline-sre/redline/rulegen/render/mimir"
	"github.com/redline-sre/redline/rulegen/render/prometheusrule"
	"github.com/redline-sre/redline/rulegen/render/rulefile"
	"github.com/redline-sre/redline/rulegen/render/testfile"
	"github.com/redline-sre/redline/rulegen/spec"
	"github.com/redline-sre/redline/rulegen/validate"
)

// Outputs are the files rulegen writes, in order.
var Outputs = []render.Output{
	{Name: "rules", Render: rulefile.Render, Validate: validate.Rules},
	{Name: "tests", Render: testfile.Render, Validate: validate.Tests},
	{Name: "alertmanager", Render: amconfig.Render, Validate: validate.Alertmanager},
	{Name: "dashboard", Render: dashboard.Render, Validate: dashboard.Validate},
	{Name: "slo dashboard", Render: dashboard.RenderSLO, Validate: dashboard.Validate},
	{Name: "dashboard lint", Render: dashboard.RenderLint, Validate: dashboard.ValidateLint},
	{Name: "prometheusrule", Render: prometheusrule.Render, Validate: prometheusrule.Validate},
	{Name: "argo-analysistemplate", Render: argo.RenderTemplate, Validate: argo.ValidateTemplate},
	{Name: "argo-rollout", Render: argo.RenderRollout, Validate: argo.ValidateRollout},
	{Name: "flagger-metrictemplates", Render: flagger.RenderMetrics, Validate: flagger.ValidateMetrics},
	{Name: "flagger-canary", Render: flagger.RenderCanary, Validate: flagger.ValidateCanary},
	{Name: "mimir", Render: mimir.Render, Validate: mimir.Validate},
}

// Generate renders and validates every output of a spec. source names the
// spec in the generated headers.
func Generate(s *spec.Spec, source string) ([]render.File, error) {
	m, err := model.Build(s, source)
	if err != nil {
		return nil, err
	}
	// Outputs only read the model, so they render and validate in parallel;
	// validation (template and series parsing) is most of the work.
	files := make([]render.File, len(Outputs))
	errs := make([]error, len(Outputs))
	var wg sync.WaitGroup
	for i, o := range Outputs {
		wg.Go(func() {
			f, err := o.Render(m)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", o.Name, err)
				return
			}
			if f.Path == "" {
				return // the spec asks for no such file (no dashboard: section)
			}
			if o.Validate != nil {
				if err := o.Validate(f.Data); err != nil {
					errs[i] = fmt.Errorf("generated %s does not validate (a rulegen bug): %w", f.Path, err)
					return
				}
			}
			files[i] = f
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	written := files[:0]
	for _, f := range files {
		if f.Path != "" {
			written = append(written, f)
		}
	}
	return written, nil
}

// Write stores files under dir, creating directories as needed. Each file
// is written to a temporary name and renamed, so a reader never sees half.
func Write(dir string, files []render.File) error {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, f.Data, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return err
		}
	}
	return nil
}

// Stale is a generated file whose committed copy differs.
type Stale struct {
	Path string
	// Diff is a unified diff from the file on disk to the generated one.
	Diff string
}

// Check compares generated files with the files under dir.
func Check(dir string, files []render.File) ([]Stale, error) {
	var stale []Stale
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		have, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			stale = append(stale, Stale{Path: f.Path, Diff: diff.Unified("/dev/null", "b/"+f.Path, "", string(f.Data))})
			continue
		}
		if err != nil {
			return nil, err
		}
		if d := diff.Unified("a/"+f.Path, "b/"+f.Path, string(have), string(f.Data)); d != "" {
			stale = append(stale, Stale{Path: f.Path, Diff: d})
		}
	}
	return stale, nil
}
