package gate_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"

	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/judge"
	"github.com/redline-sre/redline/rulegen/judge/prom"
	"github.com/redline-sre/redline/rulegen/render/argo"
)

// TestTheJudgeGatesTheStage: a canary that fails 1.6 times as often as
// its baseline passes the threshold comparison (factor 2) and the
// service-wide trigger (1%), and the gate's statistical judge, asked by
// default because the spec's canary judges http_errors, fails the stage:
// Argo's measurement names judge:http_errors, and the stage's evidence
// holds the judge's report and samples.
func TestTheJudgeGatesTheStage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	s := startStack(t, func(c *gate.Config) { c.JudgeWindow = 30 * time.Second })
	const release = "shop-judged"
	S, F := v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed

	s.until(t, release, 1, S, 2*time.Minute)
	_, v := s.verdict(t, release, 1)
	outcome := map[string]gate.Outcome{}
	for _, c := range v.Checks {
		outcome[c.Name] = c.Outcome
	}
	if outcome[gate.JudgeCheck] != gate.GO || outcome["judge:http_errors"] != gate.GO {
		t.Fatalf("healthy stage 1: judge %q, judge:http_errors %q, want GO for both: %s", outcome[gate.JudgeCheck], outcome["judge:http_errors"], s.verdictText(t, release, 1))
	}

	// window= narrows the judge's window; a bad one is the caller's error.
	if resp, err := http.Get(s.gateURL + "/api/v1/verdict?stage=1&release=" + release + "&window=soon"); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("window=soon: %v %v, want 400", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	resp, err := http.Get(s.gateURL + "/api/v1/verdict?stage=1&release=" + release + "&window=7s")
	if err != nil {
		t.Fatal(err)
	}
	var narrow gate.Verdict
	err = json.NewDecoder(resp.Body).Decode(&narrow)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range narrow.Checks {
		if c.Name != gate.JudgeCheck {
			continue
		}
		if !strings.Contains(c.Healthy, " over ") {
			t.Fatalf("window=7s: the judge did not run: %+v", c)
		}
		var from, to string
		if _, err := fmt.Sscanf(strings.ReplaceAll(strings.SplitN(c.Healthy, " over ", 2)[1], "..", " "), "%s %s", &from, &to); err != nil {
			t.Fatalf("judge healthy %q: %v", c.Healthy, err)
		}
		f, _ := time.Parse(time.RFC3339, from)
		e, _ := time.Parse(time.RFC3339, to)
		if d := e.Sub(f); d < 6*time.Second || d > 8*time.Second {
			t.Errorf("window=7s: the judge read %s..%s", from, to)
		}
	}

	s.work.set("regressed")
	meas := s.until(t, release, 2, F, 2*time.Minute)
	failed := meas[argo.GateFailedMetric].Value
	if !strings.Contains(failed, "judge:http_errors") {
		t.Errorf("the failed-checks measurement is %s, want it naming judge:http_errors", failed)
	}
	if strings.Contains(failed, "canary:") || strings.Contains(failed, "trigger:") {
		t.Errorf("the failed-checks measurement is %s: the regression is meant to pass the thresholds", failed)
	}
	s.checkEvidence(t, release, 2)
	dir := filepath.Join(s.evidence, release, "stage-2")
	b, err := os.ReadFile(filepath.Join(dir, prom.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	var rep prom.Result
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Verdict == judge.VerdictPass || len(rep.Metrics) != 1 || rep.Metrics[0].Classification != judge.High || rep.Metrics[0].MannWhitney == nil {
		t.Errorf("stage-2/judge.json: %s", b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, prom.SamplesFile)); err != nil || !strings.Contains(string(b), `"values"`) {
		t.Errorf("stage-2/samples.json: %v %.200s", err, b)
	}
}
