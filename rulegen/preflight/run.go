package preflight

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/redline-sre/redline/rulegen/model"
)

// Options configure one preflight run.
type Options struct {
	Server Server
	// Timeout bounds the checks (default 60s); checks still running then
	// are UNKNOWN. The evidence tables are read after them, within what
	// is left of it but never less than one QueryTimeout.
	Timeout time.Duration
	// QueryTimeout bounds each query (default 10s, at most Timeout), so
	// one slow query cannot stall the rest.
	QueryTimeout time.Duration
	// Concurrency is how many checks run at once (default 8).
	Concurrency int
	// SpecSHA256 is the hash of the spec file, for the report.
	SpecSHA256 string
	// EvidenceDir, when set, receives the evidence files.
	EvidenceDir string
	// OnEvidence, when set, runs on the evidence directory once it is
	// written (rulegen's --signing-key signs it there).
	OnEvidence EvidenceHook
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = 10 * time.Second
	}
	o.QueryTimeout = min(o.QueryTimeout, o.Timeout)
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
}

// Run checks the model against Prometheus. The error is an
// *UnreachableError when Prometheus cannot be asked at all (no answer to
// its build-information request, credentials refused), and another error,
// with no report, for a bad configuration or an evidence directory that
// cannot be made. Everything after is a report: a query that timed out
// makes its check UNKNOWN (never GO), evidence that cannot be read is
// listed in it, and evidence that cannot be written makes it NO-GO with
// the reason — the decision, the exit code and the evidence agree.
func Run(parent context.Context, m *model.Model, o Options) (*Report, error) {
	o.defaults()
	start := time.Now()
	ctx, cancel := context.WithTimeout(parent, o.Timeout)
	defer cancel()
	c, err := connect(o.Server)
	if err != nil {
		return nil, err
	}
	// Each run has its own client: without this, every round of a watch
	// would leave its connections open until Prometheus refuses more
	// (--web.max-connections, 512 by default).
	defer c.http.CloseIdleConnections()
	if o.EvidenceDir != "" {
		if err := os.MkdirAll(o.EvidenceDir, 0o755); err != nil {
			return nil, fmt.Errorf("--evidence: %w", err)
		}
	}
	if err := c.probe(ctx); err != nil {
		return nil, err
	}
	rep := &Report{Service: m.Service, Prometheus: c.shown, SpecSHA256: o.SpecSHA256, Time: start.UTC().Truncate(time.Millisecond)}
	checks := Checks(m)
	results := make([]*Result, len(checks))
	signals := map[string]Outcome{}
	for _, after := range []bool{false, true} {
		g := &errgroup.Group{}
		g.SetLimit(o.Concurrency)
		for i, chk := range checks {
			if chk.after != after {
				continue
			}
			g.Go(func() error {
				e := &env{c: c, at: rep.Time, timeout: o.QueryTimeout, runTimeout: o.Timeout, signals: signals}
				t := time.Now()
				out := chk.run(ctx, e)
				// A healthy answer with a warning may be a partial one
				// (a Thanos store or Mimir querier down): what is missing
				// could be what breaks the check, so it is not GO.
				if w := PartialWarning(e.queries); out.Status == GO && w != "" {
					out.Status, out.Value = Unknown, "partial"
					out.Detail = "the answer came with a warning, so it may be partial (a Thanos or Mimir partial response, a store down): " + w
				}
				results[i] = &Result{
					Check: chk.Name, Required: chk.Required && !out.Warning, Threshold: chk.Threshold,
					Status: out.Status, Value: out.Value, Detail: out.Detail,
					Queries: e.queries, Duration: time.Since(t),
				}
				return nil
			})
		}
		_ = g.Wait()
		if !after {
			for i, chk := range checks {
				if chk.signal != "" {
					signals[chk.signal] = Outcome{Status: results[i].Status, Value: results[i].Value, Warning: !results[i].Required}
				}
			}
		}
	}
	rep.Results = results
	rep.Decision = decide(results)
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		for _, r := range results {
			if r.Status == Unknown && r.Detail == "" {
				r.Detail = fmt.Sprintf("not answered within --timeout %s", o.Timeout)
			}
		}
	}
	if o.EvidenceDir != "" {
		ectx, ecancel := context.WithTimeout(parent, max(time.Until(start.Add(o.Timeout)), o.QueryTimeout))
		files := gatherEvidence(ectx, m, c, rep, o)
		ecancel()
		if err := writeEvidence(o.EvidenceDir, rep, files); err != nil {
			rep.EvidenceError = fmt.Sprintf("evidence %s not written: %v", o.EvidenceDir, err)
			rep.Decision = NoGo
		}
		if o.OnEvidence != nil {
			if err := o.OnEvidence(o.EvidenceDir, m, rep); err != nil {
				return rep, fmt.Errorf("evidence %s: %w", o.EvidenceDir, err)
			}
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}
