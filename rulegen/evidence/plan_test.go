package evidence

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
)

// TestSummarizeReadsTheGateStages: the one-liner counts the gate's
// stage-N directories (not stage-0, the release as a whole, nor a
// pre-traffic ask) and, as rollbacks, those whose checks.json is NO_GO.
func TestSummarizeReadsTheGateStages(t *testing.T) {
	dir := t.TempDir()
	for name, verdict := range map[string]gate.Outcome{
		"stage-0": gate.NoGo, "stage-1": gate.GO, "stage-2": gate.NoData, "stage-3": gate.NoGo, "stage-4-pre-traffic": gate.NoGo,
	} {
		d := filepath.Join(dir, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		v := &gate.Verdict{Verdict: verdict, Checks: []gate.Check{}}
		if err := os.WriteFile(filepath.Join(d, StageChecks), v.JSON(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := &model.Model{Service: "shop", Ladder: &model.Ladder{Weights: []int32{1, 5, 25, 50, 100}}}
	s := Summarize(dir, m, &preflight.Report{Decision: preflight.GO}, nil)
	if s.Stages != 5 || s.StagesDone != 3 || s.Rollbacks != 1 {
		t.Errorf("stages %d/%d rollbacks %d, want 3/5 and 1 (stage-3 NO_GO)", s.StagesDone, s.Stages, s.Rollbacks)
	}
}
