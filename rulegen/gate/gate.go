// Package gate is `rulegen serve`: the release gate the canary engines ask
// at every stage. A verdict is the preflight's checks (rulegen/preflight)
// plus the stage's canary comparisons — the spec's threshold comparisons
// and, when its canary judges signals, the statistical judge
// (rulegen/judge/prom) over the stage — reduced to GO, NO_GO or NO_DATA.
// NO_DATA — a check that cannot tell: no series, NaN, traffic below
// min_rate, a failed or timed-out query, Prometheus unreachable — is never
// GO: Argo Rollouts reads it as Inconclusive (the rollout pauses) and
// Flagger's hooks as a failed call (the step halts; no rollback).
package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/redline-sre/redline/rulegen/judge/prom"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
)

// Outcome is a check's or a stage's verdict.
type Outcome string

// The three outcomes, as the JSON and the engines' conditions spell them.
const (
	GO     Outcome = "GO"
	NoGo   Outcome = "NO_GO"
	NoData Outcome = "NO_DATA"
)

// value is the outcome as redline_gate_verdict shows it.
func (o Outcome) value() float64 {
	switch o {
	case GO:
		return 1
	case NoGo:
		return 0
	}
	return -1
}

// Check is one line of a verdict.
type Check struct {
	Name    string  `json:"name"`
	Outcome Outcome `json:"outcome"`
	// Required false makes the check a warning: shown, not part of the
	// verdict (the spec's required: false, ticket triggers).
	Required bool   `json:"required"`
	Value    string `json:"value"`
	// Healthy says what healthy is.
	Healthy string `json:"healthy"`
	// Reason says why: the series that break the condition, the data
	// that is missing.
	Reason  string            `json:"reason"`
	Queries []preflight.Query `json:"queries"`
	// Judge is the judge's run behind the judge check, for the stage's
	// judge.json and samples.json (not in the verdict's JSON).
	Judge *prom.Result `json:"-"`
}

// Verdict is the answer for one stage of one release.
type Verdict struct {
	Verdict Outcome `json:"verdict"`
	Stage   int     `json:"stage"`
	// Weight is the stage's traffic share from the spec's ladder, in
	// percent; absent for stage 0 (the release as a whole).
	Weight  *int32 `json:"weight_percent,omitempty"`
	Release string `json:"release"`
	// PreTraffic: asked before the canary has traffic, without the canary
	// comparisons.
	PreTraffic  bool      `json:"pre_traffic,omitempty"`
	Service     string    `json:"service"`
	EvaluatedAt time.Time `json:"evaluated_at"`
	SpecSHA256  string    `json:"spec_sha256"`
	Prometheus  string    `json:"prometheus"`
	// Failed names the required checks that are NO_GO, comma-separated,
	// empty when none: Argo Rollouts' web metric shows one JSON value, and
	// this is the one that says what failed.
	Failed string `json:"failed"`
	// NoData names the required checks that are NO_DATA, likewise.
	NoData string  `json:"no_data"`
	Checks []Check `json:"checks"`

	// body is the JSON, encoded once per evaluation: every caller of a
	// cached verdict gets the same bytes.
	once sync.Once
	body []byte
}

// JSON is the verdict as the API answers it.
func (v *Verdict) JSON() []byte {
	v.once.Do(func() {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			b = []byte(`{"verdict":"NO_DATA","error":"encoding the verdict failed"}`)
		}
		v.body = append(b, '\n')
	})
	return v.body
}

// Stage is what a verdict is asked about.
type Stage struct {
	Release string
	// Number is the stage in the spec's ladder, from 1; 0 is the release
	// as a whole (a caller that does not say which stage).
	Number int
	// Weight is the stage's traffic share (0 for stage 0).
	Weight int32
	// At is the evaluation time of every query.
	At time.Time
	// Window is the judge's window ending at At, when the caller asked
	// for one (0: the ladder's step_duration).
	Window time.Duration
}

// Comparisons are a stage's canary-versus-baseline judgements, added to
// the preflight's checks. The default reads the model's canary
// comparisons from Prometheus and, when the spec judges signals, runs
// the judge (JudgeComparisons).
type Comparisons interface {
	Compare(ctx context.Context, st Stage) []Check
}

// Config configures a Gate.
type Config struct {
	Model      *model.Model
	Server     preflight.Server
	SpecSHA256 string
	// EvidenceDir, when set, receives DIR/<release>/stage-<N>/ at every
	// fresh evaluation.
	EvidenceDir string
	// CacheTTL is how long a verdict is served again without asking
	// Prometheus (default 5s): engines and war-room pages poll.
	CacheTTL time.Duration
	// Timeout bounds one evaluation (default 30s); checks not answered
	// by then are NO_DATA. QueryTimeout bounds each query (default 10s).
	Timeout, QueryTimeout time.Duration
	// Concurrency is how many checks of one evaluation run at once
	// (default 8); MaxEvaluations how many evaluations (of different
	// stages or releases) run at once (default 2).
	Concurrency, MaxEvaluations int
	// Comparisons, nil for the model's canary comparisons and, when the
	// spec's canary judges signals, the statistical judge over the stage
	// (JudgeComparisons with JudgeWindow and JudgeStep).
	Comparisons Comparisons
	JudgeWindow time.Duration
	JudgeStep   time.Duration
	// Seal, when set, signs each stage's evidence directory after it is
	// written (an in-toto attestation, see rulegen/evidence).
	Seal func(ctx context.Context, dir string, v *Verdict) error
	// GrafanaURL is the base of the war-room page's dashboard links
	// (empty: links relative to the page's host).
	GrafanaURL string
	// Refresh is the war-room page's reload interval (default 15s).
	Refresh  time.Duration
	Registry prometheus.Registerer
	Logger   *slog.Logger
}

// Gate evaluates verdicts and serves them.
type Gate struct {
	cfg     Config
	m       *model.Model
	prom    *preflight.Prometheus
	cmp     Comparisons
	metrics *metrics
	log     *slog.Logger
	flight  singleflight.Group
	slots   chan struct{}

	mu    sync.Mutex
	cache map[Ask]cached
	// last is the newest verdict, for the war-room page without a query.
	last *Verdict
	// evidence serialises the release summaries.
	evidence sync.Mutex
}

// Ask is what a caller asks about: a release's stage, and whether the
// canary receives traffic yet.
type Ask struct {
	Release string
	Stage   int
	// PreTraffic leaves out the canary comparisons: before the first
	// step (Flagger's pre-rollout hook) the canary has no traffic, and a
	// comparison of nothing would be NO_DATA by construction.
	PreTraffic bool
	// Window is the judge's window (window=DURATION; 0 the default).
	Window time.Duration
}

type cached struct {
	v       *Verdict
	expires time.Time
}

// New checks the configuration and connects (without sending anything).
func New(cfg Config) (*Gate, error) {
	if cfg.Model == nil {
		return nil, fmt.Errorf("gate: no model")
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 10 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.MaxEvaluations <= 0 {
		cfg.MaxEvaluations = 2
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 15 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	pc, err := preflight.Connect(cfg.Server)
	if err != nil {
		return nil, err
	}
	g := &Gate{cfg: cfg, m: cfg.Model, prom: pc, cmp: cfg.Comparisons, log: cfg.Logger,
		slots: make(chan struct{}, cfg.MaxEvaluations), cache: map[Ask]cached{}}
	if g.cmp == nil {
		g.cmp = &ModelComparisons{Model: cfg.Model, Prometheus: pc, QueryTimeout: cfg.QueryTimeout}
		if j := cfg.Model.Judge; j != nil && len(j.Metrics) > 0 {
			g.cmp = both{g.cmp, &JudgeComparisons{Model: cfg.Model, Prometheus: pc, Window: cfg.JudgeWindow, Step: cfg.JudgeStep, QueryTimeout: cfg.QueryTimeout}}
		}
	}
	if g.metrics, err = newMetrics(cfg.Registry); err != nil {
		return nil, err
	}
	return g, nil
}

var releaseRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ParseStage checks a caller's release and stage: the release becomes a
// directory name, so it is a plain name; the stage is 0 or one of the
// ladder's.
func (g *Gate) ParseStage(release, stage string) (string, int, error) {
	if release == "" {
		release = g.m.Service
	}
	if !releaseRE.MatchString(release) {
		return "", 0, fmt.Errorf("release %q: want letters, digits, '.', '_' and '-' (at most 128, not starting with a punctuation mark)", release)
	}
	if stage == "" {
		return "", 0, fmt.Errorf("stage is missing: give stage=N (1..%d, the spec's ladder) or stage=0 for the release as a whole", g.stages())
	}
	n, err := strconv.Atoi(stage)
	if err != nil || n < 0 || n > g.stages() {
		return "", 0, fmt.Errorf("stage %q: want 0..%d (the spec's ladder has %d stages)", stage, g.stages(), g.stages())
	}
	return release, n, nil
}

func (g *Gate) stages() int {
	if g.m.Ladder == nil {
		return 0
	}
	return len(g.m.Ladder.Weights)
}

func (g *Gate) weight(stage int) *int32 {
	if stage < 1 || stage > g.stages() {
		return nil
	}
	w := g.m.Ladder.Weights[stage-1]
	return &w
}

// Verdict answers for one stage of one release: a cached verdict younger
// than CacheTTL, or the result of the evaluation in flight for that
// stage, or a new one. Concurrent callers share one evaluation, which
// does not stop when one of them goes away.
func (g *Gate) Verdict(ctx context.Context, k Ask) *Verdict {
	g.mu.Lock()
	if c, ok := g.cache[k]; ok && time.Now().Before(c.expires) {
		g.mu.Unlock()
		return c.v
	}
	g.mu.Unlock()
	ch := g.flight.DoChan(fmt.Sprintf("%s\x00%d\x00%t\x00%d", k.Release, k.Stage, k.PreTraffic, k.Window), func() (any, error) {
		v := g.evaluate(context.WithoutCancel(ctx), k)
		g.mu.Lock()
		g.cache[k] = cached{v: v, expires: time.Now().Add(g.cfg.CacheTTL)}
		g.last = v
		g.mu.Unlock()
		return v, nil
	})
	select {
	case r := <-ch:
		return r.Val.(*Verdict)
	case <-ctx.Done():
		return g.unknown(k, time.Now(), "gate", "the caller gave up before the evaluation finished: "+ctx.Err().Error())
	}
}

// Last is the newest verdict evaluated, nil before the first.
func (g *Gate) Last() *Verdict {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last
}

func (g *Gate) evaluate(ctx context.Context, k Ask) *Verdict {
	release, stage := k.Release, k.Stage
	g.slots <- struct{}{}
	defer func() { <-g.slots }()
	start := time.Now()
	var stageDir string
	opts := preflight.Options{
		Server: g.cfg.Server, Timeout: g.cfg.Timeout, QueryTimeout: g.cfg.QueryTimeout,
		Concurrency: g.cfg.Concurrency, SpecSHA256: g.cfg.SpecSHA256,
	}
	if g.cfg.EvidenceDir != "" {
		stageDir = filepath.Join(g.cfg.EvidenceDir, release, stageDirName(k))
		opts.EvidenceDir = filepath.Join(stageDir, preflightDir)
		if err := resetDir(opts.EvidenceDir); err != nil {
			g.log.Error("evidence", "dir", stageDir, "err", err)
			opts.EvidenceDir = ""
		}
	}
	rep, err := preflight.Run(ctx, g.m, opts)
	var v *Verdict
	if rep == nil {
		// Prometheus unreachable or refusing the credentials: nothing
		// could be read, which is no data, not a pass.
		v = g.unknown(k, start.UTC().Truncate(time.Millisecond), "prometheus:reachable", err.Error())
	} else {
		if err != nil {
			g.log.Error("preflight evidence", "release", release, "stage", stage, "err", err)
		}
		v = g.fromReport(k, rep)
		ctx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
		st := Stage{Release: release, Number: stage, At: rep.Time, Window: k.Window}
		if w := g.weight(stage); w != nil {
			st.Weight = *w
		}
		seen := map[string]bool{}
		for _, c := range v.Checks {
			seen[c.Name] = true
		}
		var comparisons []Check
		if !k.PreTraffic {
			comparisons = g.cmp.Compare(ctx, st)
		}
		for _, c := range comparisons {
			// The preflight may come to check the same comparison.
			if !seen[c.Name] {
				v.Checks = append(v.Checks, c)
			}
		}
		cancel()
	}
	v.decide()
	g.metrics.observe(v, time.Since(start))
	if stageDir != "" {
		if err := g.writeEvidence(ctx, stageDir, v); err != nil {
			g.log.Error("evidence", "dir", stageDir, "err", err)
		}
	}
	g.log.Info("verdict", "release", release, "stage", stage, "verdict", v.Verdict, "failed", v.Failed, "no_data", v.NoData, "duration", time.Since(start))
	return v
}

// stageDirName is stage-N, or stage-N-pre-traffic for a pre-traffic ask.
func stageDirName(k Ask) string {
	if k.PreTraffic {
		return fmt.Sprintf("stage-%d-pre-traffic", k.Stage)
	}
	return fmt.Sprintf("stage-%d", k.Stage)
}

func (g *Gate) newVerdict(k Ask, at time.Time) *Verdict {
	return &Verdict{Release: k.Release, Stage: k.Stage, PreTraffic: k.PreTraffic, Weight: g.weight(k.Stage), Service: g.m.Service,
		EvaluatedAt: at, SpecSHA256: g.cfg.SpecSHA256, Prometheus: g.prom.URL()}
}

// unknown is a verdict with one NO_DATA check saying why nothing was read.
func (g *Gate) unknown(k Ask, at time.Time, check, reason string) *Verdict {
	v := g.newVerdict(k, at)
	v.Checks = []Check{{Name: check, Outcome: NoData, Required: true, Value: "no data", Healthy: "answers", Reason: reason, Queries: []preflight.Query{}}}
	v.decide()
	return v
}

func (g *Gate) fromReport(k Ask, rep *preflight.Report) *Verdict {
	v := g.newVerdict(k, rep.Time)
	for _, r := range rep.Results {
		c := Check{Name: r.Check, Required: r.Required, Value: r.Value, Healthy: r.Threshold, Reason: r.Detail, Queries: r.Queries}
		switch r.Status {
		case preflight.GO:
			c.Outcome = GO
		case preflight.NoGo:
			c.Outcome = NoGo
		default:
			c.Outcome = NoData
		}
		if c.Queries == nil {
			c.Queries = []preflight.Query{}
		}
		if w := warned(c.Queries); c.Outcome == GO && w != "" {
			c.Outcome = NoData
			c.Reason = "the answer came with a warning, so it may be partial (a Thanos or Mimir partial response, a store down): " + w
		}
		v.Checks = append(v.Checks, c)
	}
	return v
}

// warned is the first warning of the queries that says the data may be
// incomplete (preflight.PartialWarning).
func warned(qs []preflight.Query) string { return preflight.PartialWarning(qs) }

// decide is the stage's verdict (Decide).
func (v *Verdict) decide() {
	v.Verdict, v.Failed, v.NoData = Decide(v.Checks)
}

// Decide is a stage's verdict from its checks: NO_GO when a required
// check is NO_GO, else NO_DATA when one is NO_DATA, else GO; with the
// required checks NO_GO and NO_DATA, comma-separated. Warnings are shown
// only. rulegen verify decides a stored stage again with it.
func Decide(checks []Check) (verdict Outcome, failedNames, noDataNames string) {
	var failed, noData []string
	for _, c := range checks {
		if !c.Required {
			continue
		}
		switch c.Outcome {
		case NoGo:
			failed = append(failed, c.Name)
		case NoData:
			noData = append(noData, c.Name)
		}
	}
	verdict = GO
	switch {
	case len(failed) > 0:
		verdict = NoGo
	case len(noData) > 0:
		verdict = NoData
	}
	return verdict, strings.Join(failed, ","), strings.Join(noData, ",")
}
