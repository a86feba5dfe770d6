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
// evidence under the stack's directory and prints the table. until, when
// not nil, reruns it (every two seconds, within wait) until it accepts
// the report — a preflight taken before the stack has data says UNKNOWN.
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
	deadline := time.Now().Add(wait)
	for {
		rep, err := preflight.Run(ctx, m, o)
		if err != nil {
			return nil, err
		}
		if until == nil || until(rep) || !time.Now().Before(deadline) {
			fmt.Fprintf(out, "\n$ rulegen preflight --spec %s --prometheus %s --evidence %s\n", filepath.Join(dir, "spec.yml"), s.Prometheus.URL, o.EvidenceDir)
			return rep, preflight.WriteText(out, rep)
		}
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}
