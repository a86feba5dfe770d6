package judge

import (
	"fmt"
	"math"
	"sort"
)

// Verdict of a run.
type Verdict string

// Verdicts.
const (
	VerdictPass     Verdict = "Pass"
	VerdictMarginal Verdict = "Marginal"
	VerdictFail     Verdict = "Fail"
	// VerdictNoData: half or more of the metrics (or a critical one) had
	// no data. It is not a Pass: the stage was not judged.
	VerdictNoData Verdict = "NoData"
)

// NoDataShare is the share of metrics without data (Kayenta's 50 %) from
// which a run is NoData with score 0.
const NoDataShare = 0.5

// Thresholds are the run's score thresholds: Pass at or above Pass,
// Marginal at or above Marginal, Fail below.
type Thresholds struct {
	Pass     float64 `json:"pass"`
	Marginal float64 `json:"marginal"`
}

// WithDefaults sets zero thresholds to 95 and 75.
func (t Thresholds) WithDefaults() Thresholds {
	if t.Pass == 0 {
		t.Pass = DefaultPass
	}
	if t.Marginal == 0 {
		t.Marginal = DefaultMarginal
	}
	return t
}

// Classify is Kayenta's ThresholdScoreClassifier.
func (t Thresholds) Classify(score float64) Verdict {
	switch {
	case score >= t.Pass:
		return VerdictPass
	case score >= t.Marginal:
		return VerdictMarginal
	}
	return VerdictFail
}

// GroupScore is the score of one group of metrics.
type GroupScore struct {
	Name  string  `json:"name"`
	Score float64 `json:"score"`
	// NoData: no metric of the group had data; the group then counts as
	// 100 in the summary (Kayenta's rule: no evidence against it), while
	// the run's no-data share decides whether the run was judged at all.
	NoData bool `json:"no_data"`
}

// Score is Kayenta's WeightedSumScorer, with metric weights inside a
// group: each group scores the weighted share of its metrics with data
// that pass; the run scores the groups' weighted sum (a group without a
// weight shares what the weights given leave of 100), rounded to two
// decimals. A critical failure, or NoDataShare or more of the metrics
// without data, scores 0.
func Score(results []Result, groupWeights map[string]float64) (score float64, groups []GroupScore, reason string) {
	type acc struct{ pass, total float64 }
	byGroup := map[string]*acc{}
	var names []string
	nodata := 0
	for _, r := range results {
		a := byGroup[r.Group]
		if a == nil {
			a = &acc{}
			byGroup[r.Group] = a
			names = append(names, r.Group)
		}
		switch r.Classification {
		case Pass:
			a.pass += r.Weight
			a.total += r.Weight
		case High, Low:
			a.total += r.Weight
		case NoData:
			nodata++
		}
	}
	sort.Strings(names)
	for _, g := range names {
		a := byGroup[g]
		gs := GroupScore{Name: g, NoData: a.total == 0}
		if !gs.NoData {
			gs.Score = 100 * a.pass / a.total
		}
		groups = append(groups, gs)
	}
	for _, r := range results {
		if r.Critical && r.Classification != Pass {
			return 0, groups, fmt.Sprintf("critical metric %s is %s", r.Name, r.Classification)
		}
	}
	if len(results) == 0 {
		return 0, groups, "no metrics"
	}
	if float64(nodata) >= NoDataShare*float64(len(results)) {
		return 0, groups, fmt.Sprintf("%d of %d metrics have no data", nodata, len(results))
	}
	var given float64
	unweighted := 0
	for _, g := range names {
		if w, ok := groupWeights[g]; ok {
			given += w
		} else {
			unweighted++
		}
	}
	share := 0.0
	if unweighted > 0 {
		share = (100 - given) / float64(unweighted)
	}
	for _, gs := range groups {
		w, ok := groupWeights[gs.Name]
		if !ok {
			w = share
		}
		eff := gs.Score
		if gs.NoData {
			eff = 100
		}
		score += eff * w / 100
	}
	return math.Round(score*100) / 100, groups, ""
}

// Run is the judgement of a run: every metric and the verdict.
type Run struct {
	Verdict    Verdict      `json:"verdict"`
	Score      float64      `json:"score"`
	Reason     string       `json:"reason,omitempty"`
	Thresholds Thresholds   `json:"thresholds"`
	Groups     []GroupScore `json:"groups,omitempty"`
	Metrics    []Result     `json:"metrics"`
}

// Input is one metric to judge.
type Input struct {
	Config   Config
	Canary   []float64
	Baseline []float64
	// Events, for a Count metric, are its counts and exposures when the
	// samples are not the counts themselves.
	Events *Events
	// Err, when set, is why the samples could not be read (a failed
	// query): the metric is NoData with it as the reason.
	Err error
}

// Judge classifies every metric and scores the run. The verdict is Fail
// when a critical metric is High or Low, NoData when half or more of the
// metrics (or a critical one) have no data, and otherwise the score's
// class under the thresholds.
func Judge(inputs []Input, t Thresholds, groupWeights map[string]float64) Run {
	t = t.WithDefaults()
	run := Run{Thresholds: t, Metrics: make([]Result, 0, len(inputs))}
	for _, in := range inputs {
		var r Result
		if in.Err != nil {
			cfg := in.Config.WithDefaults()
			r = Classify(nil, nil, cfg)
			r.Reason = in.Err.Error()
		} else {
			r = ClassifyEvents(in.Canary, in.Baseline, in.Events, in.Config)
		}
		run.Metrics = append(run.Metrics, r)
	}
	run.Score, run.Groups, run.Reason = Score(run.Metrics, groupWeights)
	run.Verdict = verdict(run, t)
	return run
}

func verdict(run Run, t Thresholds) Verdict {
	if len(run.Metrics) == 0 {
		return VerdictNoData
	}
	nodata := 0
	criticalNoData := false
	for _, r := range run.Metrics {
		if r.Critical && (r.Classification == High || r.Classification == Low) {
			return VerdictFail
		}
		if r.Classification == NoData {
			nodata++
			criticalNoData = criticalNoData || r.Critical
		}
	}
	if criticalNoData || float64(nodata) >= NoDataShare*float64(len(run.Metrics)) {
		return VerdictNoData
	}
	return t.Classify(run.Score)
}
