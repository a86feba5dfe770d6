package preflight

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/redline-sre/redline/rulegen/model"
)

// Evidence file names.
const (
	EvidenceReport   = "preflight.txt"
	EvidenceJSON     = "preflight.json"
	EvidenceChecks   = "checks"
	EvidenceBaseline = "baseline.prom"
	EvidenceManifest = "SHA256SUMS"
)

// writeEvidence writes the run's evidence into dir: the table, the JSON
// report, one file per check with its queries and raw results, the
// exporter-side tables read from Prometheus, the signals' values in the
// text exposition format, and a manifest with the sha256 of every file
// (`sha256sum -c SHA256SUMS`). Nothing in it holds a credential: the URL
// is the one without, HTTP checks keep only the headers they test.
func writeEvidence(ctx context.Context, dir string, m *model.Model, c *client, rep *Report, queryTimeout time.Duration, concurrency int) error {
	if err := os.MkdirAll(filepath.Join(dir, EvidenceChecks), 0o755); err != nil {
		return err
	}
	files := map[string][]byte{}
	var text bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
		return err
	}
	files[EvidenceReport] = text.Bytes()
	var js bytes.Buffer
	if err := WriteJSON(&js, rep); err != nil {
		return err
	}
	files[EvidenceJSON] = js.Bytes()
	for _, res := range rep.Results {
		files[EvidenceChecks+"/"+checkFile(res.Check)] = checkEvidence(res)
	}
	// The tables and the baseline, side by side: each is a few queries.
	e := &env{c: c, at: rep.Time, timeout: queryTimeout}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	add := func(name string, build func() ([]byte, error)) {
		g.Go(func() error {
			data, err := build()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			mu.Lock()
			files[name] = data
			mu.Unlock()
			return nil
		})
	}
	for name, build := range tables {
		add(name, func() ([]byte, error) { return build(gctx, e, m) })
	}
	add(EvidenceBaseline, func() ([]byte, error) { return baseline(gctx, e, m, concurrency) })
	if err := g.Wait(); err != nil {
		return err
	}

	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var sums bytes.Buffer
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), files[name], 0o644); err != nil {
			return err
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(files[name]), name)
	}
	return os.WriteFile(filepath.Join(dir, EvidenceManifest), sums.Bytes(), 0o644)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// checkFile names a check's evidence file: trigger:X becomes trigger_X.txt.
func checkFile(check string) string {
	return unsafeName.ReplaceAllString(check, "_") + ".txt"
}

// checkEvidence is one check's file: its outcome, then every query with
// its evaluation time and the raw answer.
func checkEvidence(res *Result) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "check: %s\nstatus: %s\nrequired: %t\nvalue: %s\nhealthy when: %s\ndetail: %s\n",
		res.Check, res.Status, res.Required, res.Value, res.Threshold, oneLine(res.Detail))
	for i, q := range res.Queries {
		fmt.Fprintf(&b, "\n--- query %d (%s)\n%s\nevaluation time: %s\n", i+1, q.Kind, q.Request, q.Time.Format(time.RFC3339Nano))
		for _, w := range q.Warnings {
			fmt.Fprintf(&b, "warning: %s\n", w)
		}
		if q.Error != "" {
			fmt.Fprintf(&b, "error: %s\n", q.Error)
			continue
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, q.Result, "", "  ") != nil {
			pretty.Reset()
			pretty.Write(q.Result)
		}
		fmt.Fprintf(&b, "result:\n%s\n", strings.TrimRight(pretty.String(), "\n"))
	}
	return b.Bytes()
}
