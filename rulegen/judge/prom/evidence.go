package prom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	pmodel "github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/rulegen/judge"
	"github.com/redline-sre/redline/rulegen/model"
)

// The judge's evidence files, the same in `rulegen judge --evidence DIR`
// and in each gate stage's directory: the report (judge.json) and every
// value read (samples.json), from which Rejudge decides again offline.
const (
	ReportFile  = "judge.json"
	SamplesFile = "samples.json"
)

// Sampled is one query of samples.json with its values.
type Sampled struct {
	Query
	Values []judge.Value `json:"values"`
}

// WriteEvidence writes report (the judge's Result, possibly inside a
// larger report) as judge.json and res's queries with their values as
// samples.json into dir.
func WriteEvidence(dir string, report any, res *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	samples := []Sampled{}
	for _, q := range res.Queries {
		vs := make([]judge.Value, len(q.Values))
		for i, v := range q.Values {
			vs[i] = judge.Value(v)
		}
		samples = append(samples, Sampled{Query: q, Values: vs})
	}
	for name, v := range map[string]any{ReportFile: report, SamplesFile: samples} {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Rejudge runs the judge again on the samples stored in dir, with the
// model's judge configuration, and compares each metric's classification
// and the run's score and verdict with judge.json. Each difference is
// named; none means the stored verdict follows from the stored samples.
func Rejudge(dir string, m *model.Model) ([]string, error) {
	var stored Result
	if err := readJSON(filepath.Join(dir, ReportFile), &stored); err != nil {
		return nil, err
	}
	var samples []Sampled
	if err := readJSON(filepath.Join(dir, SamplesFile), &samples); err != nil {
		return nil, err
	}
	if m.Judge == nil {
		return nil, errors.New("the spec judges no signal")
	}
	inputs := make([]judge.Input, 0, len(m.Judge.Metrics))
	for _, jm := range m.Judge.Metrics {
		in := judge.Input{Config: Config(jm)}
		var errs []error
		var ev judge.Events
		for _, s := range samples {
			if s.Metric != jm.Signal.Name {
				continue
			}
			vals := make([]float64, len(s.Values))
			for i, v := range s.Values {
				vals[i] = float64(v)
			}
			if s.Error != "" {
				errs = append(errs, fmt.Errorf("%s %s: %s", s.Track, s.Kind, s.Error))
			}
			canary := s.Track == "canary"
			var one float64
			if len(vals) > 0 {
				one = vals[0]
			}
			switch s.Kind {
			case "samples":
				if canary {
					in.Canary = vals
				} else {
					in.Baseline = vals
				}
			case "events":
				*pick(canary, &ev.Canary, &ev.Baseline) = one
				in.Events = &ev
			case "exposure":
				*pick(canary, &ev.CanaryExposure, &ev.BaselineExposure) = one
				in.Events = &ev
			}
		}
		if len(errs) > 0 {
			in.Err = fmt.Errorf("query failed: %w", errors.Join(errs...))
		}
		inputs = append(inputs, in)
	}
	again := judge.Judge(inputs, judge.Thresholds{Pass: m.Judge.Pass, Marginal: m.Judge.Marginal}, nil)
	var diffs []string
	byName := map[string]judge.Result{}
	for _, r := range stored.Metrics {
		byName[r.Name] = r
	}
	for _, r := range again.Metrics {
		s, ok := byName[r.Name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: metric %s is missing (the spec judges it)", ReportFile, r.Name))
		case s.Classification != r.Classification:
			diffs = append(diffs, fmt.Sprintf("%s: metric %s is %s, its samples in %s give %s", ReportFile, r.Name, s.Classification, SamplesFile, r.Classification))
		}
		delete(byName, r.Name)
	}
	for name := range byName {
		diffs = append(diffs, fmt.Sprintf("%s: metric %s is not one the spec judges", ReportFile, name))
	}
	if stored.Score != again.Score {
		diffs = append(diffs, fmt.Sprintf("%s: score %g, the samples give %g", ReportFile, stored.Score, again.Score))
	}
	if stored.Verdict != again.Verdict {
		diffs = append(diffs, fmt.Sprintf("%s: verdict %s, the samples give %s", ReportFile, stored.Verdict, again.Verdict))
	}
	return diffs, nil
}

func readJSON(file string, v any) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	return nil
}

// ScrapeInterval is Prometheus's global scrape_interval (1m, its
// default, when the configuration does not set it): the judge's step.
func ScrapeInterval(ctx context.Context, api v1.API) (time.Duration, error) {
	cfg, err := api.Config(ctx)
	if err != nil {
		return 0, err
	}
	var c struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
	}
	if err := yaml.Unmarshal([]byte(cfg.YAML), &c); err != nil {
		return 0, fmt.Errorf("prometheus configuration: %w", err)
	}
	if c.Global.ScrapeInterval == "" {
		return time.Minute, nil
	}
	d, err := pmodel.ParseDuration(c.Global.ScrapeInterval)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("scrape_interval %q: %v", c.Global.ScrapeInterval, err)
	}
	return time.Duration(d), nil
}
