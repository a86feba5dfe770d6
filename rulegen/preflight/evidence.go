package preflight

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
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

// EvidenceSignals is the table of every signal's value.
const EvidenceSignals = "signals.txt"

// gatherEvidence reads the exporter-side tables the spec's signals call
// for, the scrape targets of its jobs and every signal's value, and lists
// in rep what could not be read and why: the evidence is what was read,
// and says what was not. It runs within ctx, which the caller gives a
// deadline of its own: a slow Prometheus that used up --timeout on the
// checks still leaves the evidence a query's time.
func gatherEvidence(ctx context.Context, m *model.Model, c *client, rep *Report, o Options) map[string][]byte {
	e := &env{c: c, at: rep.Time, timeout: o.QueryTimeout, runTimeout: o.Timeout}
	files := map[string][]byte{}
	var mu sync.Mutex
	var notRead []string
	add := func(name string, data []byte, missed []string) {
		mu.Lock()
		defer mu.Unlock()
		files[name] = data
		for _, n := range missed {
			notRead = append(notRead, name+": "+oneLine(n))
		}
	}
	g := &errgroup.Group{}
	for _, t := range tables {
		if !readsFamily(m, t.reads) {
			continue
		}
		sc := scope(m, t.scope)
		g.Go(func() error {
			data, missed := t.build(ctx, e, sc)
			add(t.name, data, missed)
			return nil
		})
	}
	if js := jobs(m); len(js) > 0 {
		g.Go(func() error {
			data, missed := promTargets(ctx, e, js)
			add("prom_targets.txt", data, missed)
			return nil
		})
	}
	g.Go(func() error {
		prom, text, missed := baseline(ctx, e, m, o.Concurrency)
		add(EvidenceBaseline, prom, missed)
		add(EvidenceSignals, text, nil)
		return nil
	})
	_ = g.Wait()
	sort.Strings(notRead)
	rep.EvidenceNotRead = notRead
	return files
}

// writeEvidence writes the run's evidence into dir: the table, the JSON
// report, one file per check with its queries and raw results (errors
// included), the tables read (files), and a manifest with the sha256 of
// every file (`sha256sum -c SHA256SUMS`), written whatever was or was not
// read. Nothing in it holds a credential: the URL is the one without,
// HTTP checks keep only the headers they test. Only a failure to write is
// an error.
func writeEvidence(dir string, rep *Report, files map[string][]byte) error {
	if err := os.MkdirAll(filepath.Join(dir, EvidenceChecks), 0o755); err != nil {
		return err
	}
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
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var sums bytes.Buffer
	var failed error
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), files[name], 0o644); err != nil {
			failed = errors.Join(failed, err)
			continue
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256(files[name]), name)
	}
	return errors.Join(failed, os.WriteFile(filepath.Join(dir, EvidenceManifest), sums.Bytes(), 0o644))
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
