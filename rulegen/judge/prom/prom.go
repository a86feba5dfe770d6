// Package prom judges a canary stage from Prometheus: it reads each judged
// signal's canary and baseline samples over the stage's window with
// query_range and hands them to rulegen/judge. It is what `rulegen judge`
// runs, and what a gate calls for each stage.
package prom

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	pmodel "github.com/prometheus/common/model"

	"github.com/redline-sre/redline/rulegen/judge"
	"github.com/redline-sre/redline/rulegen/model"
)

// Querier is the part of the Prometheus API the judge reads with
// (v1.API has it).
type Querier interface {
	QueryRange(ctx context.Context, query string, r v1.Range, opts ...v1.Option) (pmodel.Value, v1.Warnings, v1.Infos, error)
	Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (pmodel.Value, v1.Warnings, v1.Infos, error)
}

// Window is the stage judged: its start and end, and the step of the
// samples — the scrape interval, so that each sample is one scrape's
// increments (model.JudgeMetric.SamplesQuery).
type Window struct {
	From time.Time     `json:"from"`
	To   time.Time     `json:"to"`
	Step time.Duration `json:"step"`
}

// Query is one query the judge ran, for the evidence.
type Query struct {
	Metric string `json:"metric"`
	Track  string `json:"track"`
	// Kind is samples (query_range), events or exposure (instant).
	Kind    string    `json:"kind"`
	Expr    string    `json:"expr"`
	Values  []float64 `json:"-"`
	Samples int       `json:"samples"`
	Error   string    `json:"error,omitempty"`
	// Warnings are the answer's warnings and infos: a warning may mean a
	// partial answer (a Thanos store down), which the gate does not pass.
	Warnings []string `json:"warnings,omitempty"`
}

// Result is a judged stage: the judge's run, with the window and the
// queries behind it.
type Result struct {
	judge.Run
	Window  Window  `json:"window"`
	Queries []Query `json:"queries"`
}

// Options tune a run.
type Options struct {
	// QueryTimeout bounds each query (default 30s).
	QueryTimeout time.Duration
}

// Run judges the model's judged signals over the window. A query that
// fails leaves its metric NoData with the error as the reason; Run itself
// fails only when there is nothing to judge or the window is wrong.
func Run(ctx context.Context, m *model.Model, q Querier, w Window, o Options) (*Result, error) {
	if m.Judge == nil {
		return nil, errors.New("the spec has no canary: section: nothing to judge")
	}
	if len(m.Judge.Metrics) == 0 {
		return nil, errors.New("the canary compares no ratio or latency signal: nothing to judge")
	}
	if !w.To.After(w.From) {
		return nil, fmt.Errorf("the window ends (%s) before it starts (%s)", w.To.Format(time.RFC3339), w.From.Format(time.RFC3339))
	}
	if w.Step <= 0 {
		return nil, errors.New("the step must be positive")
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 30 * time.Second
	}
	res := &Result{Window: w}
	inputs := make([]judge.Input, len(m.Judge.Metrics))
	queries := make([][]Query, len(m.Judge.Metrics))
	var wg sync.WaitGroup
	for i, jm := range m.Judge.Metrics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inputs[i], queries[i] = read(ctx, q, jm, w, o)
		}()
	}
	wg.Wait()
	for _, qs := range queries {
		res.Queries = append(res.Queries, qs...)
	}
	res.Run = judge.Judge(inputs, judge.Thresholds{Pass: m.Judge.Pass, Marginal: m.Judge.Marginal}, nil)
	return res, nil
}

// Config is a judged signal's judge configuration.
func Config(jm *model.JudgeMetric) judge.Config {
	cfg := judge.Config{
		Name: jm.Signal.Name, Direction: judge.Direction(jm.Direction), Type: judge.Latency,
		Confidence: jm.Confidence, AllowedIncrease: jm.AllowedIncrease, AllowedDecrease: jm.AllowedDecrease,
		Critical: jm.Critical, Weight: jm.Weight, MinSamples: jm.MinSamples,
	}
	if jm.Type == model.JudgeCount {
		cfg.Type = judge.Count
	}
	return cfg
}

func read(ctx context.Context, q Querier, jm *model.JudgeMetric, w Window, o Options) (judge.Input, []Query) {
	in := judge.Input{Config: Config(jm)}
	name := jm.Signal.Name
	rng := 2 * w.Step
	var qs []Query
	var errs []error
	for _, canary := range []bool{true, false} {
		track := trackName(canary)
		qr := Query{Metric: name, Track: track, Kind: "samples", Expr: jm.SamplesQuery(canary, rng)}
		qr.Values, qr.Warnings, qr.Error = rangeValues(ctx, q, qr.Expr, w, o.QueryTimeout)
		qr.Samples = len(qr.Values)
		if qr.Error != "" {
			errs = append(errs, fmt.Errorf("%s samples: %s", track, qr.Error))
		}
		if canary {
			in.Canary = qr.Values
		} else {
			in.Baseline = qr.Values
		}
		qs = append(qs, qr)
	}
	if jm.Type == model.JudgeCount {
		ev := &judge.Events{}
		for _, canary := range []bool{true, false} {
			events, exposure := jm.EventsQuery(canary, w.To.Sub(w.From))
			for _, k := range []struct {
				kind, expr string
				dst        *float64
			}{
				{"events", events, pick(canary, &ev.Canary, &ev.Baseline)},
				{"exposure", exposure, pick(canary, &ev.CanaryExposure, &ev.BaselineExposure)},
			} {
				qr := Query{Metric: name, Track: trackName(canary), Kind: k.kind, Expr: k.expr}
				v, warnings, err := instant(ctx, q, k.expr, w.To, o.QueryTimeout)
				qr.Warnings = warnings
				if err != nil {
					qr.Error = err.Error()
					errs = append(errs, fmt.Errorf("%s %s: %w", qr.Track, k.kind, err))
				}
				// No series of events is none: an error counter may not
				// exist before the first error.
				*k.dst = v
				qr.Values, qr.Samples = []float64{v}, 1
				qs = append(qs, qr)
			}
		}
		in.Events = ev
	}
	if len(errs) > 0 {
		in.Err = fmt.Errorf("query failed: %w", errors.Join(errs...))
	}
	return in, qs
}

func pick(canary bool, a, b *float64) *float64 {
	if canary {
		return a
	}
	return b
}

func trackName(canary bool) string {
	if canary {
		return "canary"
	}
	return "baseline"
}

// rangeValues reads every sample of the expression's series over the
// window at the step.
func rangeValues(ctx context.Context, q Querier, expr string, w Window, timeout time.Duration) ([]float64, []string, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	val, warnings, infos, err := q.QueryRange(ctx, expr, v1.Range{Start: w.From, End: w.To, Step: w.Step}, v1.WithTimeout(timeout))
	notes := append(warnings, infos...)
	if err != nil {
		return nil, notes, err.Error()
	}
	mat, ok := val.(pmodel.Matrix)
	if !ok {
		return nil, notes, fmt.Sprintf("got a %s, want a range vector", val.Type())
	}
	var out []float64
	for _, s := range mat {
		for _, p := range s.Values {
			out = append(out, float64(p.Value))
		}
	}
	return out, notes, ""
}

// instant is the sum of an instant query's samples at t; 0 when it has
// none.
func instant(ctx context.Context, q Querier, expr string, t time.Time, timeout time.Duration) (float64, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	val, warnings, infos, err := q.Query(ctx, expr, t, v1.WithTimeout(timeout))
	notes := append(warnings, infos...)
	if err != nil {
		return 0, notes, err
	}
	vec, ok := val.(pmodel.Vector)
	if !ok {
		return 0, notes, fmt.Errorf("got a %s, want an instant vector", val.Type())
	}
	var sum float64
	for _, s := range vec {
		if v := float64(s.Value); !math.IsNaN(v) {
			sum += v
		}
	}
	return sum, notes, nil
}
