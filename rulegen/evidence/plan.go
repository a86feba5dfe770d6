// Package evidence is a release's evidence set as a whole: what it must
// hold (the plan, artifact_count.txt), the line for the release note
// (release_oneliner.txt), and rulegen verify, which checks a signed
// directory offline: the signature, the manifest, the subject, and the
// stored check values judged again against the spec.
package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/render/rulefile"
)

// The release-level files, beside preflight's.
const (
	CountFile    = "artifact_count.txt"
	OnelinerFile = "release_oneliner.txt"
	RollbackFile = "rollback_dryrun.txt"
)

// Plan lists the files a release's evidence directory must hold for m,
// sorted: preflight's files, the attestation, the completeness count and
// the one-liner, and the rollback drill's result when the spec has a
// rollback route (a rollback alert).
func Plan(m *model.Model) []string {
	files := append(preflight.EvidenceFiles(m), attest.FileName, CountFile, OnelinerFile)
	if len(RollbackAlerts(m)) > 0 {
		files = append(files, RollbackFile)
	}
	sort.Strings(files)
	return files
}

// RollbackAlerts are the model's alerts the rollback route takes.
func RollbackAlerts(m *model.Model) []*model.Alert {
	var out []*model.Alert
	for _, a := range m.Alerts {
		if a.Labels["rollback"] == "true" {
			out = append(out, a)
		}
	}
	return out
}

// Count is artifact_count.txt for dir: every file of plan, present or
// missing, and the files missing. Files in pending count as present:
// they are written after the count (the attestation, the one-liner).
func Count(dir string, plan, pending []string) ([]byte, []string) {
	soon := map[string]bool{CountFile: true}
	for _, p := range pending {
		soon[p] = true
	}
	var body bytes.Buffer
	var missing []string
	for _, name := range plan {
		state := "present"
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(name))); err != nil && !soon[name] {
			state = "missing"
			missing = append(missing, name)
		}
		fmt.Fprintf(&body, "%-8s %s\n", state, name)
	}
	head := fmt.Sprintf("# evidence plan: %d files expected, %d present, %d missing\n", len(plan), len(plan)-len(missing), len(missing))
	return append([]byte(head), body.Bytes()...), missing
}

// Summary is the release in one line.
type Summary struct {
	Release string
	Verdict string // GO or NO-GO, and the predicate's result
	// Stages is the ladder's length; StagesDone the gate's stage
	// directories (stage-N, N >= 1) present.
	Stages, StagesDone int
	// Budget is each SLO's remaining budget, slo=value.
	Budget []string
	// Rollbacks counts the stages whose verdict is NO_GO (the engines
	// abort on it; NO_DATA pauses).
	Rollbacks int
	// Drill is the rollback drill's outcome, from rollback_dryrun.txt.
	Drill string
}

// Line is release_oneliner.txt's content.
func (s Summary) Line() string {
	budget := "none"
	if len(s.Budget) > 0 {
		budget = strings.Join(s.Budget, ",")
	}
	return fmt.Sprintf("release %s verdict %s stages %d/%d budget_left %s rollbacks %d drill %s\n",
		s.Release, s.Verdict, s.StagesDone, s.Stages, budget, s.Rollbacks, s.Drill)
}

// Summarize reads the summary of the evidence in dir: rep is preflight's
// report, subjects the release artifact.
func Summarize(dir string, m *model.Model, rep *preflight.Report, subjects []attest.Subject) Summary {
	s := Summary{Release: m.Service, Drill: "not run"}
	if len(subjects) > 0 {
		var names []string
		for _, sub := range subjects {
			names = append(names, sub.Name+"@sha256:"+sub.SHA256[:12])
		}
		s.Release = strings.Join(names, ",")
	}
	warnings := len(rep.Failing(false))
	s.Verdict = rep.Decision.String() + "(" + string(attest.ResultOf(rep.Decision == preflight.GO, warnings)) + ")"
	if m.Ladder != nil {
		s.Stages = len(m.Ladder.Weights)
	}
	for _, res := range rep.Results {
		if strings.HasPrefix(res.Check, "slo:") && strings.HasSuffix(res.Check, ":budget") {
			name := strings.TrimSuffix(strings.TrimPrefix(res.Check, "slo:"), ":budget")
			v := res.Value
			if v == "" {
				v = "unknown"
			}
			s.Budget = append(s.Budget, name+"="+strings.ReplaceAll(v, " ", "_"))
		}
	}
	// The gate's stages: DIR/<release>/stage-N/ (N from 1; stage-0 is
	// the release as a whole, stage-N-pre-traffic a pre-rollout ask),
	// each with its verdict in checks.json.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n, ok := strings.CutPrefix(e.Name(), "stage-")
		if !e.IsDir() || !ok || n == "0" || strings.TrimLeft(n, "0123456789") != "" {
			continue
		}
		s.StagesDone++
		if StageVerdict(filepath.Join(dir, e.Name())) == string(gate.NoGo) {
			s.Rollbacks++
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, RollbackFile)); err == nil {
		// The drill's file starts with PASSED or FAILED.
		if f := strings.Fields(string(data)); len(f) > 0 {
			s.Drill = f[0]
		}
	}
	return s
}

func readReport(file string) (*preflight.Report, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return preflight.ReadJSON(f)
}

// Configuration is the attestation's configuration for a spec: the spec
// file and the rule files rendered from it, by their sha256.
func Configuration(specName string, specData []byte, m *model.Model) ([]attest.Resource, error) {
	rules, err := rulefile.Render(m)
	if err != nil {
		return nil, err
	}
	return []attest.Resource{
		{Name: specName, SHA256: attest.SHA256(specData), Role: attest.RoleSpec},
		{Name: rules.Path, SHA256: attest.SHA256(rules.Data), Role: attest.RoleRules},
	}, nil
}

// VerdictOf is the attestation's verdict of a preflight report.
func VerdictOf(rep *preflight.Report, subjects []attest.Subject, config []attest.Resource) *attest.Verdict {
	v := &attest.Verdict{Subjects: subjects, Configuration: config}
	for _, res := range rep.Results {
		switch {
		case res.Status == preflight.GO:
			v.Passed = append(v.Passed, res.Check)
		case !res.Required:
			v.Warned = append(v.Warned, res.Check)
		default:
			v.Failed = append(v.Failed, res.Check)
		}
	}
	v.Result = attest.ResultOf(rep.Decision == preflight.GO, len(v.Warned))
	return v
}

// SealPreflight is preflight's evidence hook with a signing key: it
// writes the count and the one-liner into dir, then signs the whole
// directory (attest.Seal).
func SealPreflight(ctx context.Context, dir string, m *model.Model, rep *preflight.Report, subjects []attest.Subject, config []attest.Resource, s dsse.Signer) error {
	count, _ := Count(dir, Plan(m), []string{attest.FileName, OnelinerFile})
	if err := os.WriteFile(filepath.Join(dir, CountFile), count, 0o644); err != nil {
		return err
	}
	line := Summarize(dir, m, rep, subjects).Line()
	if err := os.WriteFile(filepath.Join(dir, OnelinerFile), []byte(line), 0o644); err != nil {
		return err
	}
	return attest.Seal(ctx, dir, VerdictOf(rep, subjects, config), s)
}

// jsonLine is for messages: a value as JSON, never a Go %v of a struct.
func jsonLine(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// StageVerdict is a gate stage directory's verdict (GO, NO_GO or
// NO_DATA) from its checks.json, "" when it has none.
func StageVerdict(stageDir string) string {
	b, err := os.ReadFile(filepath.Join(stageDir, StageChecks))
	if err != nil {
		return ""
	}
	var v struct {
		Verdict string `json:"verdict"`
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	return v.Verdict
}
