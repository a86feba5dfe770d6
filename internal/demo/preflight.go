package demo

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/spec"
)

// Preflight runs `rulegen preflight` in-process against the stack's
// Prometheus with the spec the stack generated its rules from, writes its
// evidence under the stack's directory and prints the table with the
// command that does the same (rulegen, the binary's path). until, when not
// nil, reruns it (every two seconds, within wait) until it accepts the
// report — a preflight taken before the stack has data says UNKNOWN. A
// round that fails (a probe that a loaded machine answers late) is said
// and retried, not fatal: after wait the last report is printed, or that
// there was none (nil report, nil error). The error is ctx's, or a spec
// that cannot be read.
func (s *Stack) Preflight(ctx context.Context, dir, name string, wait time.Duration, until func(*preflight.Report) bool, out io.Writer) (*preflight.Report, error) {
	data, err := os.ReadFile(filepath.Join(dir, "spec.yml"))
	if err != nil {
		return nil, err
	}
	sp, err := spec.Load("spec.yml", data)
	if err != nil {
		return nil, err
	}
	m, err := model.Build(sp, "spec.yml")
	if err != nil {
		return nil, err
	}
	o := preflight.Options{
		Server: preflight.Server{URL: s.Prometheus.URL}, Timeout: 30 * time.Second,
		EvidenceDir: filepath.Join(dir, name), SpecSHA256: fmt.Sprintf("%x", sha256.Sum256(data)),
	}
	bin := s.RulegenBin
	if bin == "" {
		bin = "rulegen"
	}
	deadline := time.Now().Add(wait)
	var last *preflight.Report
	for {
		rep, err := preflight.Run(ctx, m, o)
		if ctx.Err() != nil {
			return last, ctx.Err()
		}
		if err != nil {
			fmt.Fprintf(out, "%s preflight round failed (retrying): %v\n", time.Now().Format("15:04:05"), err)
		} else {
			last = rep
		}
		done := !time.Now().Before(deadline)
		if rep != nil && (until == nil || until(rep)) || done {
			if last == nil {
				fmt.Fprintf(out, "%s no preflight answered within %s\n", time.Now().Format("15:04:05"), wait)
				return nil, nil
			}
			fmt.Fprintf(out, "\n$ %s preflight --spec %s --prometheus %s --evidence %s\n", bin, filepath.Join(dir, "spec.yml"), s.Prometheus.URL, o.EvidenceDir)
			return last, preflight.WriteText(out, last)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}
