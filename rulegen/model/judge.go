package model

import (
	"fmt"
	"strings"
	"time"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/redline-sre/redline/rulegen/spec"
)

// Judge is what `rulegen judge` (and the gate) compares between the
// canary and the baseline track: one metric per judged signal, with its
// settings resolved, and the score thresholds. Zero settings mean the
// judge's defaults.
type Judge struct {
	// Label, Canary and Baseline name the tracks.
	Label, Canary, Baseline string
	Metrics                 []*JudgeMetric
	// Pass and Marginal are the score thresholds (0: 95 and 75).
	Pass, Marginal float64
}

// Judge metric types.
const (
	// JudgeContinuous samples are measurements (a ratio, a quantile).
	JudgeContinuous = "latency"
	// JudgeCount samples come with event counts the judge compares as
	// rates (a ratio's errors over its requests).
	JudgeCount = "count"
)

// JudgeMetric is one judged signal.
type JudgeMetric struct {
	Signal *Signal
	// Direction is the bad change: increase, decrease or either.
	Direction string
	// Type is JudgeContinuous or JudgeCount.
	Type            string
	Confidence      float64
	AllowedIncrease float64
	AllowedDecrease float64
	Critical        bool
	Weight          float64
	MinSamples      int
	judge           *Judge
}

// judgedKind is a kind the judge can sample per track: ratio and latency,
// the kinds a canary compares.
type judgedKind interface {
	// judgeSamples is the PromQL of one track's value from rates over
	// rng, reading scraped series only.
	judgeSamples(sig *Signal, track *labels.Matcher, rng string) string
	// judgeEvents is the PromQL of one track's events and exposure over
	// rng ("" when the kind counts no events).
	judgeEvents(sig *Signal, track *labels.Matcher, rng string) (events, exposure string)
}

// addJudge resolves the canary's judge: section. Without one (or without
// signals in it), every signal the canary compares is judged, its bad
// direction that of its rollback condition. A listed signal the canary
// does not compare (it reads none of the canary's selectors) is an error
// at its line: it has no track to judge.
func (m *Model) addJudge(s *spec.Spec) error {
	c := s.Canary
	j := &Judge{Label: c.Label, Canary: c.Canary, Baseline: c.Baseline}
	var entries []spec.JudgeSignal
	if c.Judge != nil {
		j.Pass, j.Marginal = c.Judge.Pass.Float(), c.Judge.Marginal.Float()
		entries = c.Judge.Signals
	}
	if len(entries) == 0 {
		for _, sig := range m.Signals {
			if m.TracksCompared(sig) {
				entries = append(entries, spec.JudgeSignal{Signal: sig.Name})
			}
		}
	}
	for i, e := range entries {
		sig := m.SignalByName(e.Signal)
		if sig == nil {
			continue
		}
		if !m.TracksCompared(sig) {
			path := fmt.Sprintf("canary.judge.signals[%d].signal", i)
			return &spec.Error{File: s.File, Pos: s.At(path), Path: path,
				Msg: fmt.Sprintf("signal %q reads none of the canary's selectors (%s): it has no track to judge", e.Signal, strings.Join(c.Selectors, ", "))}
		}
		if _, ok := sig.kind().(judgedKind); !ok {
			continue
		}
		jm := &JudgeMetric{
			Signal: sig, Direction: e.Direction, Type: JudgeContinuous,
			Confidence: e.Confidence.Float(), AllowedIncrease: e.AllowedIncrease.Float(), AllowedDecrease: e.AllowedDecrease.Float(),
			Critical: e.Critical, Weight: e.Weight.Float(), MinSamples: int(e.MinSamples.Float()), judge: j,
		}
		if jm.Direction == "" {
			jm.Direction = spec.DirectionIncrease
			if v := sig.Violation(); strings.HasPrefix(v, "<") {
				jm.Direction = spec.DirectionDecrease
			}
		}
		if ev, _ := sig.kind().(judgedKind).judgeEvents(sig, nil, "1m"); ev != "" {
			jm.Type = JudgeCount
		}
		j.Metrics = append(j.Metrics, jm)
	}
	m.Judge = j
	return nil
}

// track is the matcher of the canary (true) or the baseline track.
func (j *JudgeMetric) track(canary bool) *labels.Matcher {
	v := j.judge.Baseline
	if canary {
		v = j.judge.Canary
	}
	return labels.MustNewMatcher(labels.MatchEqual, j.judge.Label, v)
}

// SamplesQuery is the query_range expression of one track's samples: the
// signal's value from rates over rng. Read at step s with rng = 2s, each
// sample covers its own scrape interval, so consecutive samples share no
// increments — the rank test wants independent samples, which the
// signal's own 5m window (20 overlapping samples) would not give.
func (j *JudgeMetric) SamplesQuery(canary bool, rng time.Duration) string {
	return j.Signal.kind().(judgedKind).judgeSamples(j.Signal, j.track(canary), commonmodel.Duration(rng).String())
}

// EventsQuery is the instant expression of one track's event count and
// exposure over rng (errors and requests of a ratio); "" for a kind
// without events.
func (j *JudgeMetric) EventsQuery(canary bool, rng time.Duration) (events, exposure string) {
	return j.Signal.kind().(judgedKind).judgeEvents(j.Signal, j.track(canary), commonmodel.Duration(rng).String())
}

func withTrack(vs string, track *labels.Matcher) string {
	sel, err := parseSelector(vs)
	if err != nil || sel == nil {
		panic(fmt.Sprintf("model: a validated selector does not parse: %q", vs)) // a rulegen bug
	}
	var extra []*labels.Matcher
	if track != nil {
		extra = append(extra, track)
	}
	return Selector(sel, sel.Name, extra...)
}

// judgeSamples: a track without errors often has no error series at all
// (a client creates a status code's series at its first request), which
// is a ratio of 0, not no data (kayenta #799); without requests there is
// no sample.
func (ratioKind) judgeSamples(sig *Signal, track *labels.Matcher, rng string) string {
	return fmt.Sprintf("(sum(rate(%s[%s])) or vector(0)) / sum(rate(%s[%s]))",
		withTrack(sig.Signal.Errors, track), rng, withTrack(sig.Signal.Total, track), rng)
}

func (ratioKind) judgeEvents(sig *Signal, track *labels.Matcher, rng string) (string, string) {
	return fmt.Sprintf("sum(increase(%s[%s]))", withTrack(sig.Signal.Errors, track), rng),
		fmt.Sprintf("sum(increase(%s[%s]))", withTrack(sig.Signal.Total, track), rng)
}

func (latencyKind) judgeSamples(sig *Signal, track *labels.Matcher, rng string) string {
	h := sig.Histogram
	var extra []*labels.Matcher
	if track != nil {
		extra = append(extra, track)
	}
	buckets := guarded(fmt.Sprintf("rate(%s[%s])", Selector(h, h.Name+"_bucket", extra...), rng), sig.Guard)
	return fmt.Sprintf("histogram_quantile(%s, sum by (le) (%s))", sig.Quantile.String(), buckets)
}

func (latencyKind) judgeEvents(*Signal, *labels.Matcher, string) (string, string) { return "", "" }
