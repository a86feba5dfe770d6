package gate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/judge/prom"
	"github.com/redline-sre/redline/rulegen/model"
)

// Evidence file names; N is the stage.
const (
	preflightDir    = "preflight"
	checksFile      = "checks.json"
	manifestFile    = "SHA256SUMS"
	releaseSummary  = "summary.txt"
	rolloutFile     = "rollout_stage_%d.txt"
	dbHealthFile    = "db_health_stage_%d.txt"
	pgbouncerFile   = "pgbouncer_stage_%d.txt"
	stageSummary    = "summary_stage_%d.txt"
	preflightPools  = "pgbouncer_pools.tsv"
	preflightSeqs   = "sequences.txt"
	preflightTuples = "pg_dead_tuples_top5.txt"
)

func resetDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// writeEvidence writes a stage's files beside the preflight's own
// evidence (preflight/, with its tables), then SHA256SUMS over every file
// of the stage (`sha256sum -c SHA256SUMS` in the stage directory), then the
// release's summary.txt across its stages. Nothing secret: the verdict
// carries the Prometheus URL without credentials, as the preflight does.
func (g *Gate) writeEvidence(ctx context.Context, dir string, v *Verdict) error {
	n := v.Stage
	files := map[string][]byte{}
	files[checksFile] = v.JSON()
	files[fmt.Sprintf(rolloutFile, n)] = g.rolloutText(v)
	files[fmt.Sprintf(stageSummary, n)] = g.summaryText(v)
	pf := filepath.Join(dir, preflightDir)
	if b := g.dbHealthText(v, pf); b != nil {
		files[fmt.Sprintf(dbHealthFile, n)] = b
	}
	if b := g.pgbouncerText(v, pf); b != nil {
		files[fmt.Sprintf(pgbouncerFile, n)] = b
	}
	var judged *prom.Result
	for _, c := range v.Checks {
		if c.Judge != nil {
			judged = c.Judge
		}
	}
	if judged != nil {
		// The judge's files, as rulegen judge --evidence writes them:
		// rulegen verify judges the stored samples again.
		files[prom.ReportFile], files[prom.SamplesFile] = nil, nil
	}
	// Files of an earlier evaluation that this one does not write (a
	// section the spec lost) must not stay behind, unlisted.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() && files[e.Name()] == nil {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	for name, data := range files {
		if data == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	if judged != nil {
		if err := prom.WriteEvidence(dir, judged, judged); err != nil {
			return err
		}
	}
	if g.cfg.Seal != nil {
		// Seal writes SHA256SUMS (the same format) and signs it; the
		// previous attestation went with the files above.
		if err := g.cfg.Seal(ctx, dir, v); err != nil {
			return err
		}
	} else if err := manifest(dir); err != nil {
		return err
	}
	return g.writeReleaseSummary(filepath.Dir(dir))
}

// manifest hashes every file under dir, sorted, in sha256sum's format.
func manifest(dir string) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err == nil && rel != manifestFile {
			names = append(names, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%x  %s\n", sha256.Sum256(data), name)
	}
	return os.WriteFile(filepath.Join(dir, manifestFile), b.Bytes(), 0o644)
}

func (g *Gate) stageTitle(v *Verdict) string {
	s := fmt.Sprintf("release %s of %s, stage %d", v.Release, v.Service, v.Stage)
	if v.Weight != nil {
		s += fmt.Sprintf(" of %d (%d%% of the traffic", g.stages(), *v.Weight)
		if l := g.m.Ladder; l != nil {
			s += ", held " + l.StepDuration.String()
		}
		s += ")"
	} else {
		s += " (the release as a whole)"
	}
	return s
}

// rolloutText: the stage, its weight and time, and every check's verdict.
func (g *Gate) rolloutText(v *Verdict) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n", g.stageTitle(v))
	fmt.Fprintf(&b, "evaluated at: %s\nprometheus: %s\nspec sha256: %s\nverdict: %s\n", v.EvaluatedAt.Format(time.RFC3339), v.Prometheus, v.SpecSHA256, v.Verdict)
	if l := g.m.Ladder; l != nil {
		var steps []string
		for i, w := range l.Weights {
			mark := ""
			if i+1 == v.Stage {
				mark = " <- this stage"
			}
			steps = append(steps, fmt.Sprintf("  stage %d: %d%%%s", i+1, w, mark))
		}
		fmt.Fprintf(&b, "ladder (%s=%q against %s=%q, %s per stage):\n%s\n", l.Label, l.Canary, l.Label, l.Baseline, l.StepDuration, strings.Join(steps, "\n"))
	}
	b.WriteString("\n")
	checkTable(&b, v.Checks)
	return b.Bytes()
}

func checkTable(b *bytes.Buffer, checks []Check) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OUTCOME\tCHECK\tVALUE\tHEALTHY WHEN\tREASON")
	for _, c := range checks {
		o := string(c.Outcome)
		if !c.Required && c.Outcome != GO {
			o += " (warn)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o, c.Name, cell(c.Value), cell(c.Healthy), cell(c.Reason))
	}
	tw.Flush()
}

func cell(s string) string {
	if s = strings.Join(strings.Fields(s), " "); s == "" {
		return "-"
	}
	return s
}

// summaryText is one screen for the war room: the verdict, what blocks
// it and why, the error budgets, the counts.
func (g *Gate) summaryText(v *Verdict) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s: %s\n", v.Verdict, g.stageTitle(v))
	fmt.Fprintf(&b, "at %s, spec %s\n\n", v.EvaluatedAt.Format(time.RFC3339), short(v.SpecSHA256))
	counts := map[Outcome]int{}
	var blocking, warnings []Check
	for _, c := range v.Checks {
		counts[c.Outcome]++
		switch {
		case c.Outcome != GO && c.Required:
			blocking = append(blocking, c)
		case c.Outcome != GO:
			warnings = append(warnings, c)
		}
	}
	fmt.Fprintf(&b, "%d checks: %d GO, %d NO_GO, %d NO_DATA (%d warnings)\n", len(v.Checks), counts[GO], counts[NoGo], counts[NoData], len(warnings))
	if len(blocking) == 0 {
		b.WriteString("nothing blocks this stage\n")
	} else {
		b.WriteString("\nblocking:\n")
		for _, c := range blocking {
			fmt.Fprintf(&b, "  %s %s = %s (healthy: %s): %s\n", c.Outcome, c.Name, cell(c.Value), cell(c.Healthy), cell(c.Reason))
		}
	}
	if budgets := budgets(v); len(budgets) > 0 {
		b.WriteString("\nerror budget left:\n")
		for _, c := range budgets {
			fmt.Fprintf(&b, "  %s %s (healthy: %s)\n", strings.TrimSuffix(strings.TrimPrefix(c.Name, "slo:"), ":budget"), cell(c.Value), cell(c.Healthy))
		}
	}
	if len(warnings) > 0 {
		b.WriteString("\nwarnings (not part of the verdict):\n")
		for _, c := range warnings {
			fmt.Fprintf(&b, "  %s %s: %s\n", c.Outcome, c.Name, cell(c.Reason))
		}
	}
	return b.Bytes()
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	if sha == "" {
		return "(built-in)"
	}
	return sha
}

// budgets are the SLOs' remaining-budget checks.
func budgets(v *Verdict) []Check {
	var out []Check
	for _, c := range v.Checks {
		if strings.HasPrefix(c.Name, "slo:") && strings.HasSuffix(c.Name, ":budget") {
			out = append(out, c)
		}
	}
	return out
}

// topic is a section of db_health: the signals whose selectors read its
// metrics, and the preflight table that shows it.
type topic struct {
	title string
	match func(metric string) bool
	table string
}

var dbTopics = []topic{
	{"Sequences", func(n string) bool { return strings.Contains(n, "sequence") }, preflightSeqs},
	{"Dead tuples", func(n string) bool { return strings.Contains(n, "dead_tup") }, preflightTuples},
	{"Migrations", func(n string) bool { return strings.Contains(n, "migration") }, ""},
	{"Connections", func(n string) bool { return strings.HasPrefix(n, "pg_") && strings.Contains(n, "connection") }, ""},
}

// signalsReading lists the model's signals with a selector whose metric
// name matches.
func signalsReading(m *model.Model, match func(string) bool) []string {
	var out []string
	for _, sig := range m.Signals {
		for _, vs := range []*parser.VectorSelector{sig.Metric, sig.Counter, sig.Total, sig.Errors, sig.Histogram} {
			if vs != nil && match(vs.Name) {
				out = append(out, sig.Name)
				break
			}
		}
	}
	return out
}

// aboutSignals are the checks of these signals and of the triggers on them.
func (g *Gate) aboutSignals(v *Verdict, signals []string) []Check {
	names := map[string]bool{}
	for _, s := range signals {
		names["signal:"+s] = true
	}
	for _, a := range g.m.Alerts {
		for _, c := range a.Conditions {
			for _, s := range signals {
				if c.Signal.Name == s {
					names["trigger:"+a.Name] = true
					names["canary:"+a.Name] = true
				}
			}
		}
	}
	var out []Check
	for _, c := range v.Checks {
		if names[c.Name] {
			out = append(out, c)
		}
	}
	return out
}

// dbHealthText: one section per topic the spec's signals read, nil when
// the spec reads none of them.
func (g *Gate) dbHealthText(v *Verdict, pf string) []byte {
	var b bytes.Buffer
	for _, t := range dbTopics {
		signals := signalsReading(g.m, t.match)
		if len(signals) == 0 {
			continue
		}
		fmt.Fprintf(&b, "## %s (signals %s)\n\n", t.title, strings.Join(signals, ", "))
		checkTable(&b, g.aboutSignals(v, signals))
		if t.table != "" {
			if data, err := os.ReadFile(filepath.Join(pf, t.table)); err == nil {
				fmt.Fprintf(&b, "\n%s", data)
			}
		}
		b.WriteString("\n")
	}
	if b.Len() == 0 {
		return nil
	}
	return append([]byte(fmt.Sprintf("# Database health, %s, at %s\n\n", g.stageTitle(v), v.EvaluatedAt.Format(time.RFC3339))), b.Bytes()...)
}

// pgbouncerText: the pool signals' checks and the preflight's pool table,
// nil when the spec reads no pgbouncer_ metric.
func (g *Gate) pgbouncerText(v *Verdict, pf string) []byte {
	signals := signalsReading(g.m, func(n string) bool { return strings.HasPrefix(n, "pgbouncer_") })
	if len(signals) == 0 {
		return nil
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# pgBouncer pools, %s, at %s\n\n", g.stageTitle(v), v.EvaluatedAt.Format(time.RFC3339))
	checkTable(&b, g.aboutSignals(v, signals))
	if data, err := os.ReadFile(filepath.Join(pf, preflightPools)); err == nil {
		fmt.Fprintf(&b, "\n# pools (%s)\n%s", preflightPools, data)
	}
	return b.Bytes()
}

// writeReleaseSummary is one line per stage evaluated, from each stage's
// checks.json, so it survives a restart of the gate.
func (g *Gate) writeReleaseSummary(dir string) error {
	g.evidence.Lock()
	defer g.evidence.Unlock()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var verdicts []*Verdict
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "stage-") {
			continue
		}
		if _, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(e.Name(), "stage-"), "-pre-traffic")); err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name(), checksFile))
		if err != nil {
			continue
		}
		var v Verdict
		if json.Unmarshal(data, &v) == nil {
			verdicts = append(verdicts, &v)
		}
	}
	sort.Slice(verdicts, func(i, j int) bool {
		if verdicts[i].Stage != verdicts[j].Stage {
			return verdicts[i].Stage < verdicts[j].Stage
		}
		return verdicts[i].PreTraffic
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "# release %s of %s: the last verdict of each stage\n\n", filepath.Base(dir), g.m.Service)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tWEIGHT\tVERDICT\tEVALUATED AT\tFAILED\tNO DATA")
	for _, v := range verdicts {
		w := "-"
		if v.Weight != nil {
			w = fmt.Sprintf("%d%%", *v.Weight)
		}
		st := strconv.Itoa(v.Stage)
		if v.PreTraffic {
			st += " (pre-traffic)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", st, w, v.Verdict, v.EvaluatedAt.Format(time.RFC3339), cell(v.Failed), cell(v.NoData))
	}
	tw.Flush()
	return os.WriteFile(filepath.Join(dir, releaseSummary), b.Bytes(), 0o644)
}
