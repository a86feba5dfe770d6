package evidence

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"

	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/judge"
	"github.com/redline-sre/redline/rulegen/judge/prom"
	"github.com/redline-sre/redline/rulegen/preflight"
)

// StageChecks is a gate stage's verdict file (DIR/<release>/stage-N/).
const StageChecks = "checks.json"

// GateVerdict is the attestation's verdict of a gate stage: its checks by
// outcome (a check that is not required and not GO is a warning), PASSED
// for GO (WARNED with warnings), FAILED for NO_GO and NO_DATA.
func GateVerdict(v *gate.Verdict, subjects []attest.Subject, config []attest.Resource) *attest.Verdict {
	out := &attest.Verdict{Subjects: subjects, Configuration: config}
	for _, c := range v.Checks {
		switch {
		case c.Outcome == gate.GO:
			out.Passed = append(out.Passed, c.Name)
		case !c.Required:
			out.Warned = append(out.Warned, c.Name)
		default:
			out.Failed = append(out.Failed, c.Name)
		}
	}
	out.Result = attest.ResultOf(v.Verdict == gate.GO, len(out.Warned))
	return out
}

// JudgeVerdict is the attestation's verdict of a judge run, its tests
// named as the gate names them (judge, judge:<signal>): PASSED for Pass
// (WARNED when a metric did not pass but the score did), FAILED for Fail,
// NoData and Marginal — the gate's reading of Marginal (NO_GO), so that a
// signed judge and a signed gate stage agree.
func JudgeVerdict(run *judge.Run, subjects []attest.Subject, config []attest.Resource) *attest.Verdict {
	out := &attest.Verdict{Subjects: subjects, Configuration: config}
	pass := run.Verdict == judge.VerdictPass
	if pass {
		out.Passed = append(out.Passed, gate.JudgeCheck)
	} else {
		out.Failed = append(out.Failed, gate.JudgeCheck)
	}
	for _, r := range run.Metrics {
		name := gate.JudgeCheck + ":" + r.Name
		switch {
		case r.Classification == judge.Pass:
			out.Passed = append(out.Passed, name)
		case pass:
			out.Warned = append(out.Warned, name)
		default:
			out.Failed = append(out.Failed, name)
		}
	}
	out.Result = attest.ResultOf(pass, len(out.Warned))
	return out
}

// checkStage decides a gate stage again from its stored checks, and its
// preflight's stored values against their thresholds; the attestation
// must say what the checks say.
func checkStage(out *Outcome, dir string, v *attest.Verdict) {
	b, err := os.ReadFile(filepath.Join(dir, StageChecks))
	if err != nil {
		out.addf("%s: %v", StageChecks, err)
		return
	}
	var st gate.Verdict
	if err := json.Unmarshal(b, &st); err != nil {
		out.addf("%s: %v", StageChecks, err)
		return
	}
	verdict, failed, noData := gate.Decide(st.Checks)
	if verdict != st.Verdict {
		out.addf("%s: verdict %s, but the checks' outcomes give %s", StageChecks, st.Verdict, verdict)
	}
	if failed != st.Failed || noData != st.NoData {
		out.addf("%s: failed %q no_data %q, but the checks give %q and %q", StageChecks, st.Failed, st.NoData, failed, noData)
	}
	compareTests(out, v, GateVerdict(&st, nil, nil), StageChecks)
	checkStageJudge(out, dir, &st)
	// The preflight behind the stage: each comparable value against its
	// threshold, and each of its checks' outcomes as the stage shows it.
	pf := filepath.Join(dir, "preflight", preflight.EvidenceJSON)
	rep, err := readReport(pf)
	if err != nil {
		if !os.IsNotExist(err) {
			out.addf("preflight/%s: %v", preflight.EvidenceJSON, err)
		}
		return
	}
	shown := map[string]gate.Outcome{}
	for _, c := range st.Checks {
		shown[c.Name] = c.Outcome
	}
	for _, res := range rep.Results {
		if msg := valueContradicts(res); msg != "" {
			out.addf("preflight/%s: check %s: %s", preflight.EvidenceJSON, res.Check, msg)
		}
		if o, ok := shown[res.Check]; ok && res.Status == preflight.NoGo && o != gate.NoGo {
			out.addf("%s: check %s is %s, preflight/%s says NO-GO", StageChecks, res.Check, o, preflight.EvidenceJSON)
		}
		if o, ok := shown[res.Check]; ok && res.Status != preflight.GO && o == gate.GO {
			out.addf("%s: check %s is GO, preflight/%s says %s", StageChecks, res.Check, preflight.EvidenceJSON, res.Status)
		}
	}
}

// checkJudge judges the stored samples again with the spec's judge
// configuration; a judge's own directory (inside false: no checks.json
// or preflight.json, whose checks are compared elsewhere) must be signed
// with what its report says.
func checkJudge(out *Outcome, dir string, v *attest.Verdict, s *Spec, inside bool) {
	if !inside {
		b, err := os.ReadFile(filepath.Join(dir, prom.ReportFile))
		if err != nil {
			out.addf("%s: %v", prom.ReportFile, err)
			return
		}
		var run judge.Run
		if err := json.Unmarshal(b, &run); err != nil {
			out.addf("%s: %v", prom.ReportFile, err)
			return
		}
		compareTests(out, v, JudgeVerdict(&run, nil, nil), prom.ReportFile)
	}
	if s == nil {
		return
	}
	diffs, err := prom.Rejudge(dir, s.Model)
	if err != nil {
		out.addf("re-judging %s: %v", prom.SamplesFile, err)
	}
	out.Problems = append(out.Problems, diffs...)
}

// compareTests compares the signed result and test lists with those the
// stored file gives.
func compareTests(out *Outcome, v, want *attest.Verdict, file string) {
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
}

// checkStageJudge: the stage's judge checks must say what its judge.json
// says (which checkJudge judges again from the samples): the run's
// verdict read as the gate reads it, each signal's classification.
func checkStageJudge(out *Outcome, dir string, st *gate.Verdict) {
	b, err := os.ReadFile(filepath.Join(dir, prom.ReportFile))
	if err != nil {
		return
	}
	var run judge.Run
	if err := json.Unmarshal(b, &run); err != nil {
		return // checkJudge names it
	}
	want := map[string]gate.Outcome{gate.JudgeCheck: judgeOutcome(run.Verdict)}
	for _, r := range run.Metrics {
		o := gate.NoData
		switch r.Classification {
		case judge.Pass:
			o = gate.GO
		case judge.High, judge.Low:
			o = gate.NoGo
		}
		want[gate.JudgeCheck+":"+r.Name] = o
	}
	for _, c := range st.Checks {
		if w, ok := want[c.Name]; ok && w != c.Outcome {
			out.addf("%s: check %s is %s, %s gives %s", StageChecks, c.Name, c.Outcome, prom.ReportFile, w)
		}
	}
}

// judgeOutcome is the gate's reading of a judge verdict.
func judgeOutcome(v judge.Verdict) gate.Outcome {
	switch v {
	case judge.VerdictPass:
		return gate.GO
	case judge.VerdictNoData:
		return gate.NoData
	}
	return gate.NoGo
}
