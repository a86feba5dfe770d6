package gate

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
)

// ModelComparisons are the model's canary-versus-baseline checks (the
// spec's canary: selectors), each asked with its engine query scoped to
// the spec's own track values: how many series break the comparison.
type ModelComparisons struct {
	Model        *model.Model
	Prometheus   *preflight.Prometheus
	QueryTimeout time.Duration
}

// Compare runs every comparison at the stage's time. An empty answer
// (traffic below min_rate on either track, no series) and NaN are
// NO_DATA; a failed query is NO_DATA with its error.
func (c *ModelComparisons) Compare(ctx context.Context, st Stage) []Check {
	l := c.Model.Ladder
	if l == nil {
		return nil
	}
	scope := model.Scope{Label: l.Label, Canary: l.Canary, Baseline: l.Baseline}
	var out []Check
	for _, chk := range c.Model.Checks {
		cc := chk.Alert.Canary
		if !chk.Comparison || cc == nil {
			continue
		}
		res := Check{Name: "canary:" + chk.Alert.Name, Required: true, Queries: []preflight.Query{},
			Healthy: fmt.Sprintf("%s on %s=%q at most %s× %s=%q", cc.Signal.Name, l.Label, l.Canary, cc.Tracks.Factor.String(), l.Label, l.Baseline)}
		q, err := chk.Query(scope)
		if err != nil {
			res.Outcome, res.Reason = NoData, err.Error()
			out = append(out, res)
			continue
		}
		v, evidence, err := c.Prometheus.Query(ctx, q, st.At, c.QueryTimeout)
		res.Queries = append(res.Queries, evidence)
		switch {
		case err != nil:
			res.Outcome, res.Value, res.Reason = NoData, "no data", err.Error()
		case warned(res.Queries) != "":
			res.Outcome, res.Value = NoData, "partial"
			res.Reason = "the answer came with a warning, so it may be partial: " + warned(res.Queries)
		case len(v) == 0:
			res.Outcome, res.Value = NoData, "no data"
			res.Reason = fmt.Sprintf("the comparison cannot be made: a track has no series of %s, or its traffic (%s) is below the signal's min_rate", cc.Value, cc.Traffic)
		case math.IsNaN(float64(v[0].Value)):
			res.Outcome, res.Value = NoData, "NaN"
			res.Reason = "a track's value is NaN (a ratio over no requests)"
		case v[0].Value > 0:
			res.Outcome, res.Value = NoGo, c.tracks(ctx, cc, st, &res)
			res.Reason = fmt.Sprintf("the canary's %s is above %s× the baseline's (%s)", cc.Signal.Name, cc.Tracks.Factor.String(), chk.Alert.Name)
		default:
			res.Outcome, res.Value = GO, c.tracks(ctx, cc, st, &res)
		}
		out = append(out, res)
	}
	return out
}

// tracks is the value column: both tracks' values, as evidence.
func (c *ModelComparisons) tracks(ctx context.Context, cc *model.CanaryCheck, st Stage, res *Check) string {
	l := c.Model.Ladder
	val := func(track string) string {
		v, q, err := c.Prometheus.Query(ctx, fmt.Sprintf("sum(%s{%s=%q})", cc.Value, l.Label, track), st.At, c.QueryTimeout)
		res.Queries = append(res.Queries, q)
		if err != nil || len(v) == 0 {
			return "no data"
		}
		return preflight.FormatValue(float64(v[0].Value))
	}
	return fmt.Sprintf("canary %s, baseline %s", val(l.Canary), val(l.Baseline))
}
