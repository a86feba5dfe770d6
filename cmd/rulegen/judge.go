package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/evidence"
	"github.com/redline-sre/redline/rulegen/judge"
	"github.com/redline-sre/redline/rulegen/judge/prom"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/spec"
)

// Exit codes of rulegen judge beside preflight's: 0 Pass, 1 Fail, 2 spec
// or flags, 3 Prometheus unreachable, 4 Marginal, 5 no data.
const (
	exitPass     = 0
	exitFail     = 1
	exitMarginal = 4
	exitNoData   = 5
)

type judgeFlags struct {
	cmd                  *kingpin.CmdClause
	spec, from, to       *string
	release              *string
	stage                *int
	step                 *time.Duration
	output, evidence     *string
	timeout, queryTimout *time.Duration
	client               *preflightFlags
	sign                 *signFlags
}

func judgeCommand(app *kingpin.Application) *judgeFlags {
	c := app.Command("judge", "Judge a canary stage against its baseline statistically (Mann-Whitney U, Hodges-Lehmann interval, spread and error-rate tests), read from Prometheus: exit 0 Pass, 1 Fail, 4 Marginal, 5 no data, 2 spec or flag error, 3 Prometheus unreachable.")
	f := &judgeFlags{
		cmd:         c,
		spec:        c.Flag("spec", "Spec file (default: the "+spec.DefaultName+" spec, the platform's).").PlaceHolder("FILE").String(),
		from:        c.Flag("from", "Start of the stage: RFC 3339, Unix seconds, or now-DURATION.").Required().PlaceHolder("TIME").String(),
		to:          c.Flag("to", "End of the stage (same forms; now).").Default("now").PlaceHolder("TIME").String(),
		release:     c.Flag("release", "Release identifier, written into the report and evidence.").PlaceHolder("ID").String(),
		stage:       c.Flag("stage", "Stage number of the release's ladder, written into the report and evidence.").Default("-1").PlaceHolder("N").Int(),
		step:        c.Flag("step", "Step of the samples (default: Prometheus's global scrape_interval).").PlaceHolder("DURATION").Duration(),
		output:      c.Flag("output", "Report format: text or json.").Default("text").Enum("text", "json"),
		evidence:    c.Flag("evidence", "Write the report and every sample read into this directory.").PlaceHolder("DIR").String(),
		timeout:     c.Flag("timeout", "Deadline of the whole run.").Default("2m").Duration(),
		queryTimout: c.Flag("query-timeout", "Deadline of each query.").Default("30s").Duration(),
		client:      &preflightFlags{},
	}
	f.client.addClientFlags(c)
	f.sign = addSignFlags(c)
	return f
}

// judgeReport is what rulegen judge prints and keeps as evidence.
type judgeReport struct {
	Release    string `json:"release,omitempty"`
	Stage      *int   `json:"stage,omitempty"`
	Spec       string `json:"spec"`
	SpecSHA256 string `json:"spec_sha256"`
	Prometheus string `json:"prometheus"`
	*prom.Result
}

func runJudge(ctx context.Context, f *judgeFlags, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "rulegen judge: "+format+"\n", args...)
		return code
	}
	m, sum, code := loadModel(*f.spec, renamed{stderr})
	if m == nil {
		return code
	}
	now := time.Now()
	from, err := parseTime(*f.from, now)
	if err != nil {
		return fail(exitInvalid, "--from: %v", err)
	}
	to, err := parseTime(*f.to, now)
	if err != nil {
		return fail(exitInvalid, "--to: %v", err)
	}
	if !to.After(from) {
		return fail(exitInvalid, "--to (%s) must be after --from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if *f.step < 0 || *f.timeout <= 0 || *f.queryTimout <= 0 {
		return fail(exitInvalid, "--step, --timeout and --query-timeout must be positive")
	}
	if m.Judge == nil || len(m.Judge.Metrics) == 0 {
		return fail(exitInvalid, "the spec's canary compares no signal (a canary: section with ratio or latency signals on its selectors is needed)")
	}
	cfg, err := f.client.httpClientConfig()
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	sl, err := f.sign.load(*f.spec, *f.evidence)
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, *f.timeout)
	defer cancel()
	p, err := preflight.Connect(preflight.Server{URL: *f.client.prometheus, Config: cfg})
	if err == nil {
		err = p.Probe(ctx)
	}
	var unreachable *preflight.UnreachableError
	switch {
	case errors.As(err, &unreachable):
		return fail(exitUnreachable, "%v", err)
	case err != nil:
		return fail(exitInvalid, "%v", err)
	}
	api, shown := p.API(), p.URL()
	step := *f.step
	if step == 0 {
		if step, err = prom.ScrapeInterval(ctx, api); err != nil {
			return fail(exitUnreachable, "reading the scrape interval (or give --step): %v", err)
		}
	}
	res, err := prom.Run(ctx, m, api, prom.Window{From: from, To: to, Step: step}, prom.Options{QueryTimeout: *f.queryTimout})
	if err != nil {
		return fail(exitInvalid, "%v", err)
	}
	rep := judgeReport{Release: *f.release, Spec: m.Source, SpecSHA256: sum, Prometheus: shown, Result: res}
	if *f.stage >= 0 {
		rep.Stage = f.stage
	}
	if *f.output == "json" {
		err = writeJSON(stdout, rep)
	} else {
		err = writeJudgeText(stdout, rep)
	}
	if err != nil {
		return fail(exitError, "%v", err)
	}
	if *f.evidence != "" {
		if err := writeJudgeEvidence(*f.evidence, rep); err != nil {
			return fail(exitError, "evidence: %v", err)
		}
		if sl != nil {
			err := sl.seal(ctx, *f.evidence, m, func(subjects []attest.Subject, config []attest.Resource) *attest.Verdict {
				return evidence.JudgeVerdict(&res.Run, subjects, config)
			})
			if err != nil {
				return fail(exitError, "signing the evidence: %v", err)
			}
		}
	}
	switch res.Verdict {
	case judge.VerdictPass:
		return exitPass
	case judge.VerdictMarginal:
		return exitMarginal
	case judge.VerdictNoData:
		return exitNoData
	}
	return exitFail
}

// renamed passes the shared spec loader's messages on under this
// command's name.
type renamed struct{ w io.Writer }

func (r renamed) Write(p []byte) (int, error) {
	_, err := r.w.Write([]byte(strings.ReplaceAll(string(p), "rulegen preflight: ", "rulegen judge: ")))
	return len(p), err
}

// parseTime reads RFC 3339, Unix seconds, now or now-DURATION.
func parseTime(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "now-"):
		d, err := time.ParseDuration(strings.TrimPrefix(s, "now-"))
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("%q: want now-DURATION such as now-15m", s)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-12-07T10:00:00Z), Unix seconds or now-DURATION", s)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func writeJudgeText(w io.Writer, rep judgeReport) error {
	win := rep.Window
	head := fmt.Sprintf("judge %s..%s, step %s", win.From.UTC().Format(time.RFC3339), win.To.UTC().Format(time.RFC3339), win.Step)
	if rep.Release != "" {
		head += ", release " + rep.Release
	}
	if rep.Stage != nil {
		head += fmt.Sprintf(", stage %d", *rep.Stage)
	}
	fmt.Fprintln(w, head)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SIGNAL\tRESULT\tBY\tCANARY n, median\tBASELINE n, median\tU\tp\tSHIFT [INTERVAL]\tREASON")
	for _, r := range rep.Metrics {
		u, p, shift := "-", "-", "-"
		if mw := r.MannWhitney; mw != nil {
			u, p = strconv.FormatFloat(mw.U, 'g', 6, 64), strconv.FormatFloat(mw.P, 'g', 3, 64)
			shift = fmt.Sprintf("%.4g [%.4g, %.4g]", mw.Estimate, mw.Lower, mw.Upper)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d, %.4g\t%d, %.4g\t%s\t%s\t%s\t%s\n", r.Name, r.Classification, r.DecidedBy,
			r.Canary.Count, float64(r.Canary.Median), r.Baseline.Count, float64(r.Baseline.Median), u, p, shift, r.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	line := fmt.Sprintf("verdict: %s (score %g; pass %g, marginal %g)", rep.Verdict, rep.Score, rep.Thresholds.Pass, rep.Thresholds.Marginal)
	if rep.Reason != "" {
		line += ": " + rep.Reason
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// writeJudgeEvidence keeps the report and every sample read: judge.json
// and samples.json (prom.WriteEvidence, the gate's stage layout too).
func writeJudgeEvidence(dir string, rep judgeReport) error {
	return prom.WriteEvidence(dir, rep, rep.Result)
}
