package gate

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redline-sre/redline/rulegen/judge"
	"github.com/redline-sre/redline/rulegen/judge/prom"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
)

// JudgeCheck is the name of the judge's run check in a verdict; each
// judged signal is judge:<signal> beside it.
const JudgeCheck = "judge"

// JudgeComparisons are the statistical judge's comparisons
// (rulegen/judge/prom, the same as `rulegen judge`) over the stage's
// window: the Window before the evaluation (the ladder's step_duration
// unless the caller asks for another with window=DURATION), at the
// scrape interval.
//
// The run is one required check, judge: Pass is GO, Fail and Marginal
// NO_GO (Kayenta's rule: a marginal canary does not pass, and the gate has
// no warning verdict the engines would act on), NoData NO_DATA. Each
// signal is judge:<signal>, required when the run did not pass (it then
// names the metric that failed it), a warning otherwise (a High metric
// outweighed by the score is shown, not acted on).
type JudgeComparisons struct {
	Model      *model.Model
	Prometheus *preflight.Prometheus
	// Window is the stage's window (0: the ladder's step_duration).
	Window time.Duration
	// Step is the samples' step (0: Prometheus's scrape_interval, read
	// once).
	Step         time.Duration
	QueryTimeout time.Duration

	mu   sync.Mutex
	step time.Duration
}

// sampleStep is Step, or the scrape interval read once it is read
// successfully (a Prometheus down at the first ask is asked again).
func (c *JudgeComparisons) sampleStep(ctx context.Context) (time.Duration, error) {
	if c.Step > 0 {
		return c.Step, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.step > 0 {
		return c.step, nil
	}
	d, err := prom.ScrapeInterval(ctx, c.Prometheus.API())
	if err == nil {
		c.step = d
	}
	return d, err
}

// Compare judges the stage's window ending at st.At.
func (c *JudgeComparisons) Compare(ctx context.Context, st Stage) []Check {
	window := st.Window
	if window <= 0 {
		window = c.Window
	}
	if window <= 0 && c.Model.Ladder != nil {
		window = time.Duration(c.Model.Ladder.StepDuration.Duration)
	}
	run := Check{Name: JudgeCheck, Required: true, Queries: []preflight.Query{}, Outcome: NoData, Value: "no data"}
	if window <= 0 {
		run.Reason = "no stage window: the canary ladder has no step_duration and the caller gave no window"
		return []Check{run}
	}
	step, err := c.sampleStep(ctx)
	if err != nil {
		run.Reason = "reading Prometheus's scrape_interval for the judge's step: " + err.Error()
		return []Check{run}
	}
	w := prom.Window{From: st.At.Add(-window), To: st.At, Step: step}
	res, err := prom.Run(ctx, c.Model, c.Prometheus.API(), w, prom.Options{QueryTimeout: c.QueryTimeout})
	if err != nil {
		run.Reason = err.Error()
		return []Check{run}
	}
	run.Healthy = fmt.Sprintf("score >= %g (pass) over %s..%s", res.Thresholds.Pass, w.From.UTC().Format(time.RFC3339), w.To.UTC().Format(time.RFC3339))
	run.Value = fmt.Sprintf("%s, score %g", res.Verdict, res.Score)
	run.Judge = res
	var bad []string
	for _, r := range res.Metrics {
		if r.Classification == judge.High || r.Classification == judge.Low {
			bad = append(bad, fmt.Sprintf("%s %s", r.Name, r.Classification))
		}
	}
	switch res.Verdict {
	case judge.VerdictPass:
		run.Outcome = GO
	case judge.VerdictNoData:
		run.Outcome = NoData
		run.Reason = "the judge had too little data: " + res.Reason
	default:
		run.Outcome = NoGo
		run.Reason = fmt.Sprintf("the judge's verdict is %s (score %g, pass %g, marginal %g)", res.Verdict, res.Score, res.Thresholds.Pass, res.Thresholds.Marginal)
		if len(bad) > 0 {
			run.Reason += ": " + strings.Join(bad, ", ")
		}
		if res.Reason != "" {
			run.Reason += "; " + res.Reason
		}
	}
	partial := judgeWarning(res.Queries)
	if partial != "" && run.Outcome == GO {
		run.Outcome, run.Value = NoData, "partial"
		run.Reason = "an answer came with a warning, so it may be partial (a Thanos or Mimir partial response, a store down): " + partial
	}
	out := []Check{run}
	for _, r := range res.Metrics {
		mc := Check{Name: JudgeCheck + ":" + r.Name, Required: res.Verdict != judge.VerdictPass, Queries: []preflight.Query{},
			Value:   fmt.Sprintf("%s: canary median %.4g (n %d), baseline %.4g (n %d)", r.Classification, float64(r.Canary.Median), r.Canary.Count, float64(r.Baseline.Median), r.Baseline.Count),
			Healthy: "Pass: the canary no worse than the baseline", Reason: r.Reason}
		if mw := r.MannWhitney; mw != nil {
			mc.Value += fmt.Sprintf(", U %g, p %.3g, shift %.4g [%.4g, %.4g]", mw.U, mw.P, mw.Estimate, mw.Lower, mw.Upper)
		}
		switch r.Classification {
		case judge.Pass:
			mc.Outcome = GO
		case judge.High, judge.Low:
			mc.Outcome = NoGo
		default:
			mc.Outcome = NoData
		}
		if mw := judgeWarning(metricQueries(res.Queries, r.Name)); mw != "" && mc.Outcome == GO {
			mc.Outcome = NoData
			mc.Reason = "an answer came with a warning, so it may be partial: " + mw
		}
		out = append(out, mc)
	}
	return out
}

// judgeWarning is the first warning of the judge's queries that says the
// data may be incomplete (preflight.PartialWarning).
func judgeWarning(qs []prom.Query) string {
	var pq []preflight.Query
	for _, q := range qs {
		pq = append(pq, preflight.Query{Warnings: q.Warnings})
	}
	return preflight.PartialWarning(pq)
}

func metricQueries(qs []prom.Query, metric string) []prom.Query {
	var out []prom.Query
	for _, q := range qs {
		if q.Metric == metric {
			out = append(out, q)
		}
	}
	return out
}

// both runs the model's threshold comparisons and the judge.
type both []Comparisons

func (b both) Compare(ctx context.Context, st Stage) []Check {
	var out []Check
	for _, c := range b {
		out = append(out, c.Compare(ctx, st)...)
	}
	return out
}
