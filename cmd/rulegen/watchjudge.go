package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/judge/prom"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
)

// roundJudge is the statistical judge of each preflight --watch round:
// the gate's (gate.JudgeComparisons) over the --watch duration before
// the round, its checks added to the round's report as judge and
// judge:<signal> (NO_DATA is UNKNOWN), the round's decision taken again,
// and judge.json and samples.json written beside the round's evidence.
type roundJudge struct {
	cmp *gate.JudgeComparisons
}

func newRoundJudge(m *model.Model, server preflight.Server, window, queryTimeout time.Duration) (*roundJudge, error) {
	if m.Judge == nil || len(m.Judge.Metrics) == 0 {
		return nil, nil
	}
	p, err := preflight.Connect(server)
	if err != nil {
		return nil, err
	}
	return &roundJudge{cmp: &gate.JudgeComparisons{Model: m, Prometheus: p, Window: window, QueryTimeout: queryTimeout}}, nil
}

// add judges the round and adds its checks to rep; with dir, it writes
// the judge's files and rep's preflight.json again.
func (j *roundJudge) add(ctx context.Context, rep *preflight.Report, dir string) error {
	checks := j.cmp.Compare(ctx, gate.Stage{At: rep.Time})
	var judged *prom.Result
	for _, c := range checks {
		r := &preflight.Result{Check: c.Name, Required: c.Required, Value: c.Value, Threshold: c.Healthy, Detail: c.Reason, Queries: []preflight.Query{}}
		switch c.Outcome {
		case gate.GO:
			r.Status = preflight.GO
		case gate.NoGo:
			r.Status = preflight.NoGo
		default:
			r.Status = preflight.Unknown
		}
		rep.Results = append(rep.Results, r)
		if c.Judge != nil {
			judged = c.Judge
		}
	}
	rep.Decision = preflight.Decide(rep.Results)
	if dir == "" {
		return nil
	}
	if judged != nil {
		if err := prom.WriteEvidence(dir, judged, judged); err != nil {
			return err
		}
	}
	// The round's report again, with the judge's checks, and its
	// manifest (signing, when asked, writes it once more).
	for name, write := range map[string]func(io.Writer, *preflight.Report) error{preflight.EvidenceJSON: preflight.WriteJSON, preflight.EvidenceReport: preflight.WriteText} {
		var b bytes.Buffer
		if err := write(&b, rep); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	_, err := attest.WriteManifest(dir)
	return err
}
