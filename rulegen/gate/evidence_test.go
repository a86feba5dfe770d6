package gate_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/spec"
)

// TestPlatformEvidence: the platform spec reads sequences, dead tuples,
// migrations, connections and pgBouncer pools, so a stage's evidence has
// db_health and pgbouncer files with one section per topic; the manifest
// verifies with sha256sum -c; the Prometheus password given in the URL is
// nowhere in it.
func TestPlatformEvidence(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	testenv.Binary(t, "prometheus")
	rules, err := filepath.Abs("../../rules/platform.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{RuleFiles: []string{rules}, BasicAuth: map[string]string{"u": "prom-secret"}})
	s, err := spec.Load(spec.DefaultName, spec.DefaultSpec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, spec.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	g, err := gate.New(gate.Config{Model: m, Server: preflight.Server{URL: strings.Replace(prom.URL, "://", "://u:prom-secret@", 1)},
		EvidenceDir: dir, Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	v := g.Verdict(context.Background(), gate.Ask{Release: "r1", Stage: 2})
	if v.Verdict == gate.GO {
		t.Fatalf("GO on a Prometheus without the platform's data")
	}
	stage := filepath.Join(dir, "r1", "stage-2")
	db, err := os.ReadFile(filepath.Join(stage, "db_health_stage_2.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Sequences (signals sequence_behind, sequence_used)", "## Dead tuples (signals dead_tuples)",
		"## Migrations (signals migrations_failed, migrations_in_progress)", "## Connections (signals connection_growth, connections_used)",
		"signal:sequence_behind", "trigger:ConnectionLeak", "Sequences behind their column"} {
		if !strings.Contains(string(db), want) {
			t.Errorf("db_health_stage_2.txt has no %q:\n%s", want, db)
		}
	}
	pgb, err := os.ReadFile(filepath.Join(stage, "pgbouncer_stage_2.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pgb), "signal:pgbouncer_saturation") || !strings.Contains(string(pgb), "trigger:PgBouncerPoolSaturated") {
		t.Errorf("pgbouncer_stage_2.txt has no pool checks:\n%s", pgb)
	}
	rollout, _ := os.ReadFile(filepath.Join(stage, "rollout_stage_2.txt"))
	if !strings.Contains(string(rollout), "stage 2 of 5 (5% of the traffic, held 15m)") {
		t.Errorf("rollout_stage_2.txt does not give the stage's weight:\n%.600s", rollout)
	}
	cmd := exec.Command("sha256sum", "--strict", "-c", "SHA256SUMS")
	cmd.Dir = stage
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), "prom-secret") {
				t.Errorf("%s holds the Prometheus password", p)
			}
		}
		return nil
	})
}
