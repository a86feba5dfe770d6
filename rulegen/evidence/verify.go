package evidence

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/judge/prom"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
)

// Spec is the spec a verifier judges the evidence against.
type Spec struct {
	Name  string
	Data  []byte
	Model *model.Model
}

// Options of Verify.
type Options struct {
	Key dsse.Verifier
	// Spec, when set, is compared with the signed configuration, and the
	// stored checks are judged again against its thresholds.
	Spec *Spec
	// Subjects must each be among the attestation's subjects.
	Subjects []attest.Subject
}

// Outcome is what Verify found. Problems empty means verified.
type Outcome struct {
	Verdict  *attest.Verdict
	Report   *preflight.Report
	Problems []string
}

func (o *Outcome) addf(format string, args ...any) {
	o.Problems = append(o.Problems, fmt.Sprintf(format, args...))
}

// Verify checks the evidence in dir offline. Each problem names the file,
// the check or the subject that differs.
func Verify(ctx context.Context, dir string, o Options) *Outcome {
	out := &Outcome{}
	line, err := os.ReadFile(filepath.Join(dir, attest.FileName))
	if err != nil {
		out.addf("%s: %v", attest.FileName, err)
		return out
	}
	v, err := attest.Open(ctx, line, o.Key)
	if err != nil {
		out.addf("%v", err)
		return out
	}
	out.Verdict = v
	manifests := v.Resources(attest.RoleManifest)
	if len(manifests) != 1 {
		out.addf("%s: the statement holds %d evidence manifests, want 1", attest.FileName, len(manifests))
		return out
	}
	out.Problems = append(out.Problems, attest.CheckManifest(dir, manifests[0].SHA256)...)
	checkSubjects(out, v, o.Subjects)
	if o.Spec != nil {
		checkConfiguration(out, v, o.Spec)
	}
	_, err = os.Stat(filepath.Join(dir, StageChecks))
	stage := err == nil
	if stage {
		checkStage(out, dir, v)
	}
	_, err = os.Stat(filepath.Join(dir, prom.ReportFile))
	judged := err == nil
	if judged {
		checkJudge(out, dir, v, o.Spec, stage || fileExists(filepath.Join(dir, preflight.EvidenceJSON)))
	}
	if stage {
		return out
	}
	if rep, err := readReport(filepath.Join(dir, preflight.EvidenceJSON)); err == nil {
		out.Report = rep
		rejudge(out, v, rep, o.Spec, judged)
		if o.Spec != nil {
			checkDerived(out, dir, v, rep, o.Spec.Model)
		}
	} else if !os.IsNotExist(err) {
		out.addf("%s: %v", preflight.EvidenceJSON, err)
	}
	return out
}

func checkSubjects(out *Outcome, v *attest.Verdict, want []attest.Subject) {
	for _, w := range want {
		if slices.Contains(v.Subjects, w) {
			continue
		}
		var names []string
		for _, s := range v.Subjects {
			if s.Name == w.Name {
				out.addf("subject %s: the attestation is for %s, not sha256:%s", w.Name, s, w.SHA256)
				names = nil
				break
			}
			names = append(names, s.String())
		}
		if names != nil {
			out.addf("subject %s: not in the attestation (it is about %s)", w, strings.Join(names, ", "))
		}
	}
}

func checkConfiguration(out *Outcome, v *attest.Verdict, s *Spec) {
	want, err := Configuration(s.Name, s.Data, s.Model)
	if err != nil {
		out.addf("spec %s: %v", s.Name, err)
		return
	}
	for _, w := range want {
		got := v.Resources(w.Role)
		if len(got) != 1 {
			out.addf("%s: the statement holds %d %s entries, want 1", attest.FileName, len(got), w.Role)
			continue
		}
		if got[0].SHA256 != w.SHA256 {
			what := "spec " + s.Name
			if w.Role == attest.RoleRules {
				what = "rule file " + w.Name + " rendered from " + s.Name
			}
			out.addf("%s: sha256 %s, the attestation was made with %s sha256 %s", what, w.SHA256, got[0].Name, got[0].SHA256)
		}
	}
}

// rejudge decides again from the stored values: each comparable value
// against its threshold, the decision from the statuses, the predicate
// from the decision, and, with a spec, the checks and thresholds the
// spec derives.
func rejudge(out *Outcome, v *attest.Verdict, rep *preflight.Report, s *Spec, judged bool) {
	const file = preflight.EvidenceJSON
	for _, res := range rep.Results {
		if msg := valueContradicts(res); msg != "" {
			out.addf("%s: check %s: %s", file, res.Check, msg)
		}
	}
	if d := preflight.Decide(rep.Results); d != rep.Decision {
		out.addf("%s: decision %s, but the checks' statuses give %s", file, rep.Decision, d)
	}
	want := VerdictOf(rep, nil, nil)
	if want.Result != v.Result {
		out.addf("%s: result %s, but %s gives %s", attest.FileName, v.Result, file, want.Result)
	}
	for _, l := range []struct {
		name      string
		got, want []string
	}{{"passedTests", v.Passed, want.Passed}, {"warnedTests", v.Warned, want.Warned}, {"failedTests", v.Failed, want.Failed}} {
		if !slices.Equal(l.got, l.want) {
			out.addf("%s: %s %s, but %s gives %s", attest.FileName, l.name, jsonLine(l.got), file, jsonLine(l.want))
		}
	}
	if s == nil {
		return
	}
	if sum := attest.SHA256(s.Data); rep.SpecSHA256 != "" && rep.SpecSHA256 != sum {
		out.addf("%s: spec_sha256 %s, spec %s has %s", file, rep.SpecSHA256, s.Name, sum)
	}
	derived := map[string]*preflight.Check{}
	for _, c := range preflight.Checks(s.Model) {
		derived[c.Name] = c
	}
	seen := map[string]bool{}
	for _, res := range rep.Results {
		seen[res.Check] = true
		if res.Check == gate.JudgeCheck || strings.HasPrefix(res.Check, gate.JudgeCheck+":") {
			// A --watch round's judge: its samples are judged again
			// (checkJudge).
			if !judged {
				out.addf("%s: check %s, but the directory has no %s to judge again", file, res.Check, prom.ReportFile)
			}
			continue
		}
		c, ok := derived[res.Check]
		switch {
		case !ok:
			out.addf("%s: check %s is not one the spec %s derives", file, res.Check, s.Name)
			continue
		case c.Threshold != res.Threshold:
			out.addf("%s: check %s: threshold %q, the spec says %q", file, res.Check, res.Threshold, c.Threshold)
		case res.Required && !c.Required:
			out.addf("%s: check %s is required, the spec makes it a warning", file, res.Check)
		case !res.Required && c.Required && res.Status == preflight.GO:
			// A required check is stored as a warning only when its
			// outcome stems from warnings, and that outcome is never GO.
			out.addf("%s: check %s is stored as a warning, the spec requires it", file, res.Check)
		}
	}
	for _, c := range preflight.Checks(s.Model) {
		if !seen[c.Name] {
			out.addf("%s: check %s of the spec %s is missing", file, c.Name, s.Name)
		}
	}
}

var (
	numThreshold = regexp.MustCompile(`^(<=|<|>=|>) (\S+?)(%)?(?: of the budget)?$`)
	numValue     = regexp.MustCompile(`^(\S+?)(%)?(?:…(\S+?)(%)?)?(?: \(\d+ series\))?$`)
)

// valueContradicts compares a stored value with its threshold where both
// are numbers (PromQL checks of the spec, remaining budgets): a GO whose
// value fails, or a NO-GO whose value holds, is a contradiction. Values
// are stored with 4 significant digits, so one within that rounding of
// the threshold cannot be told and is left alone.
func valueContradicts(res *preflight.Result) string {
	if res.Status == preflight.Unknown {
		return ""
	}
	t := numThreshold.FindStringSubmatch(res.Threshold)
	m := numValue.FindStringSubmatch(res.Value)
	if t == nil || m == nil {
		return ""
	}
	thr, err := strconv.ParseFloat(t[2], 64)
	if err != nil {
		return ""
	}
	pct := t[3] == "%"
	lo, err := strconv.ParseFloat(m[1], 64)
	if err != nil || (m[2] == "%") != pct {
		return ""
	}
	hi := lo
	if m[3] != "" {
		if hi, err = strconv.ParseFloat(m[3], 64); err != nil || (m[4] == "%") != pct {
			return ""
		}
	}
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return ""
	}
	near := func(x float64) bool { return math.Abs(x-thr) <= 1e-3*math.Abs(thr) }
	if near(lo) || near(hi) {
		return ""
	}
	holds := compare(lo, t[1], thr) && compare(hi, t[1], thr)
	switch {
	case res.Status == preflight.GO && !holds:
		return fmt.Sprintf("value %s is not %s, yet the check is GO", res.Value, res.Threshold)
	case res.Status == preflight.NoGo && holds:
		return fmt.Sprintf("value %s is %s, yet the check is NO-GO", res.Value, res.Threshold)
	}
	return ""
}

func compare(v float64, op string, thr float64) bool {
	switch op {
	case "<=":
		return v <= thr
	case "<":
		return v < thr
	case ">=":
		return v >= thr
	}
	return v > thr
}

// checkDerived compares the count and the one-liner with what the spec
// and the directory give now; a file the plan expects and the directory
// lacks fails the release.
func checkDerived(out *Outcome, dir string, v *attest.Verdict, rep *preflight.Report, m *model.Model) {
	stored, err := os.ReadFile(filepath.Join(dir, CountFile))
	if os.IsNotExist(err) {
		return // not a release set: a stage's or the judge's directory
	}
	count, missing := Count(dir, Plan(m), nil)
	if string(stored) != string(count) {
		out.addf("%s: differs from the spec's evidence plan now:\n%s", CountFile, count)
	}
	for _, f := range missing {
		out.addf("%s: missing (the evidence plan expects it)", f)
	}
	line := Summarize(dir, m, rep, v.Subjects).Line()
	if got, _ := os.ReadFile(filepath.Join(dir, OnelinerFile)); string(got) != line {
		out.addf("%s: %q, the evidence gives %q", OnelinerFile, strings.TrimSpace(string(got)), strings.TrimSpace(line))
	}
}

func fileExists(file string) bool {
	_, err := os.Stat(file)
	return err == nil
}
