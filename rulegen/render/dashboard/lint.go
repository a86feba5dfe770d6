package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana/variables"
	"github.com/redline-sre/redline/rulegen/spec"
)

// LintPath is the dashboard-linter configuration beside the dashboards:
// the linter reads the .lint of the dashboard's directory.
const LintPath = "dashboards/.lint"

// LintConfig is dashboard-linter's configuration file, as it decodes it
// (yaml.v3, lowercased keys: targetidx, not targetIdx).
type LintConfig struct {
	Exclusions map[string]*LintExclusion `yaml:"exclusions"`
}

// LintExclusion turns a rule off, everywhere or for its entries only.
type LintExclusion struct {
	Reason  string      `yaml:"reason"`
	Entries []LintEntry `yaml:"entries,omitempty"`
}

// LintEntry names one target of one panel of one dashboard.
type LintEntry struct {
	Dashboard string `yaml:"dashboard"`
	Panel     string `yaml:"panel"`
	TargetIdx string `yaml:"targetidx"`
}

// RenderLint writes the linter configuration the generated dashboards
// pass `dashboard-linter lint --strict` with: every rule it turns off says
// why, and the rate-interval exclusion lists exactly the targets whose
// window is fixed on purpose (a baseline's limit line). No dashboard, no
// file.
func RenderLint(m *model.Model) (render.File, error) {
	var entries []LintEntry
	found := false
	for _, r := range []func(*model.Model) (render.File, error){Render, RenderSLO} {
		f, err := r(m)
		if err != nil {
			return render.File{}, err
		}
		if f.Path == "" {
			continue
		}
		found = true
		e, err := fixedWindowTargets(f.Data)
		if err != nil {
			return render.File{}, fmt.Errorf("%s: %w", f.Path, err)
		}
		entries = append(entries, e...)
	}
	if !found {
		return render.File{}, nil
	}
	cfg := LintConfig{Exclusions: map[string]*LintExclusion{
		"template-job-rule": {Reason: "The spec's selectors already pin each signal to its job; a job picker would offer jobs whose series the rules never read."},
		"template-instance-rule": {Reason: "Signals are aggregated over instances, as the alerts see them; " +
			"panels split by their own labels (a pool, a target) instead."},
		"target-job-rule":      {Reason: "Queries carry the job matcher from the spec's selectors rather than a $job variable (see template-job-rule)."},
		"target-instance-rule": {Reason: "Queries aggregate over instances, as the alerts do (see template-instance-rule)."},
	}}
	if len(entries) > 0 {
		cfg.Exclusions["target-rate-interval-rule"] = &LintExclusion{
			Reason: "The limit line of a baseline signal is the rate over the spec's baseline_window one baseline_offset ago " +
				"times the tolerance: the very limit the baseline trigger compares with. With $__rate_interval the line " +
				"would move with the zoom and no longer be the trigger's limit.",
			Entries: entries,
		}
	}
	var b bytes.Buffer
	b.WriteString(render.Header(m))
	b.WriteString("# dashboard-linter configuration for the generated dashboards beside it\n" +
		"# (`dashboard-linter lint --strict dashboards/<name>.json`). Every exclusion says why.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		return render.File{}, err
	}
	if err := enc.Close(); err != nil {
		return render.File{}, err
	}
	return render.File{Path: LintPath, Data: b.Bytes()}, nil
}

// ValidateLint decodes the file as the linter does, strictly, and checks
// that every exclusion has a reason.
func ValidateLint(data []byte) error {
	var cfg LintConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return err
	}
	for rule, ex := range cfg.Exclusions {
		if ex == nil || ex.Reason == "" {
			return fmt.Errorf("exclusion of %s has no reason", rule)
		}
	}
	return nil
}

// fixedWindowTargets lists the targets of a dashboard (as written) whose
// rate or irate window is not $__rate_interval.
func fixedWindowTargets(data []byte) ([]LintEntry, error) {
	var d struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	var out []LintEntry
	for _, p := range d.Panels {
		for i, tg := range p.Targets {
			fixed, err := FixedRateWindow(tg.Expr)
			if err != nil {
				return nil, err
			}
			if fixed {
				out = append(out, LintEntry{Dashboard: d.Title, Panel: p.Title, TargetIdx: strconv.Itoa(i)})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Dashboard < out[j].Dashboard })
	return out, nil
}

// FixedRateWindow says whether a rate or irate in a panel's expression
// reads a window other than $__rate_interval, or an offset.
func FixedRateWindow(expr string) (bool, error) {
	q, err := variables.Interpolate(expr, []string{grafana.DatasourceVariable, trackVariable})
	if err != nil {
		return false, err
	}
	e, err := spec.Parser.ParseExpr(q)
	if err != nil {
		return false, err
	}
	fixed := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		call, ok := n.(*parser.Call)
		if !ok || (call.Func.Name != "rate" && call.Func.Name != "irate") {
			return nil
		}
		for _, a := range call.Args {
			if ms, ok := a.(*parser.MatrixSelector); ok {
				vs := ms.VectorSelector.(*parser.VectorSelector)
				if ms.Range.String() != "1m0s" || vs.OriginalOffset != 0 {
					fixed = true
				}
			}
		}
		return nil
	})
	return fixed, nil
}
