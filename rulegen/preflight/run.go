package preflight

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/redline-sre/redline/rulegen/model"
)

// Options configure one preflight run.
type Options struct {
	Server Server
	// Timeout bounds the whole run (default 60s); checks still running
	// then are UNKNOWN.
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
// *UnreachableError when Prometheus does not answer or refuses the
// credentials, and another error for a bad configuration or evidence that
// cannot be written; a NO-GO is a report, not an error.
func Run(ctx context.Context, m *model.Model, o Options) (*Report, error) {
	o.defaults()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	c, err := connect(o.Server)
	if err != nil {
		return nil, err
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
				e := &env{c: c, at: rep.Time, timeout: o.QueryTimeout, signals: signals}
				t := time.Now()
				out := chk.run(ctx, e)
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
		if err := writeEvidence(ctx, o.EvidenceDir, m, c, rep, o.QueryTimeout, o.Concurrency); err != nil {
			return rep, fmt.Errorf("evidence %s: %w", o.EvidenceDir, err)
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
