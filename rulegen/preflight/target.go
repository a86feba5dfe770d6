package preflight

import (
	"context"
	"fmt"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/model"
)

// jobs lists the scrape jobs the signals' selectors name (job="…").
func jobs(m *model.Model) []string {
	seen := map[string]bool{}
	for _, sig := range m.Signals {
		for _, vs := range []*parser.VectorSelector{sig.Errors, sig.Total, sig.Histogram, sig.Metric, sig.Counter} {
			if vs == nil {
				continue
			}
			for _, lm := range vs.LabelMatchers {
				if lm.Name == "job" && lm.Type == labels.MatchEqual && lm.Value != "" {
					seen[lm.Value] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for j := range seen {
		out = append(out, j)
	}
	sort.Strings(out)
	return out
}

// targetCheck reads up for one job: every target must be up, and there
// must be one.
func targetCheck(job string) *Check {
	c := &Check{Name: "target:" + job, Required: true, Threshold: "every target up"}
	q := fmt.Sprintf("up{job=%q}", job)
	c.run = func(ctx context.Context, e *env) Outcome {
		v, err := e.vector(ctx, q)
		if err != nil {
			return Outcome{Status: Unknown, Detail: err.Error()}
		}
		if len(v) == 0 {
			return Outcome{Status: Unknown, Value: "no target", Detail: fmt.Sprintf("Prometheus has no target of job %q, which the spec's selectors read", job)}
		}
		var down []string
		for _, s := range v {
			if s.Value != 1 {
				down = append(down, string(s.Metric["instance"]))
			}
		}
		val := fmt.Sprintf("%d/%d up", len(v)-len(down), len(v))
		if len(down) > 0 {
			return Outcome{Status: NoGo, Value: val, Detail: "down: " + listed(down)}
		}
		return Outcome{Status: GO, Value: val}
	}
	return c
}
