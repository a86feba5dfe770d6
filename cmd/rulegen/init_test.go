package main

import (
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/prometheus/common/version"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/spec"
)

// TestInitMinimal: the minimal spec has what a new service needs (a ratio
// and a latency signal, a trigger, an SLO, the route), and what it prints
// generates, checks and passes its generated tests under the real
// promtool.
func TestInitMinimal(t *testing.T) {
	t.Parallel() // promtool runs the SLO's day-long burn tests
	promtool := testenv.Binary(t, "promtool")
	code, stdout, stderr := runCLI(t, "init", "--minimal")
	if code != exitOK {
		t.Fatalf("init --minimal: exit %d: %s", code, stderr)
	}
	s, err := spec.Load("minimal.yml", []byte(stdout))
	if err != nil {
		t.Fatalf("the minimal spec does not load: %v", err)
	}
	kinds := map[string]bool{}
	for _, sig := range s.Signals {
		kinds[sig.Kind] = true
	}
	if !kinds[spec.KindRatio] || !kinds[spec.KindLatency] || len(s.Triggers) == 0 || len(s.SLOs) == 0 || s.Alertmanager.WebhookURL == "" {
		t.Errorf("the minimal spec lacks a ratio or latency signal, a trigger, an SLO or the route: %+v", s)
	}
	if len(stdout) >= len(spec.DefaultSpec)/4 {
		t.Errorf("the minimal spec has %d bytes, the platform spec %d: not minimal", len(stdout), len(spec.DefaultSpec))
	}
	dir := t.TempDir()
	specFile := writeSpec(t, dir, stdout)
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCLI(t, "generate", "--spec", specFile, "--out", out); code != exitOK {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "check", "--spec", specFile, "--out", out); code != exitOK {
		t.Fatalf("check: exit %d: %s", code, stderr)
	}
	if code, stdout, stderr := runCLI(t, "test", "--out", out, "--promtool", promtool); code != exitOK {
		t.Fatalf("test: exit %d: %s%s", code, stdout, stderr)
	}
	// Without --minimal, init still prints the platform spec.
	if _, stdout, _ := runCLI(t, "init"); stdout != string(spec.DefaultSpec) {
		t.Error("init without --minimal no longer prints the platform spec")
	}
}

// TestVersionFromBuildInfo: a build without the Makefile's -ldflags
// (go build, go install) reports the version Go recorded in the binary.
func TestVersionFromBuildInfo(t *testing.T) {
	saved, savedDate := version.Version, version.BuildDate
	t.Cleanup(func() { version.Version, version.BuildDate = saved, savedDate })

	version.Version, version.BuildDate = "", ""
	fillVersionFrom(&debug.BuildInfo{
		Main:     debug.Module{Path: "github.com/redline-sre/redline", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.time", Value: "2026-12-03T08:00:00Z"}},
	})
	if got := version.Print("rulegen"); !strings.Contains(got, "version v0.3.0") || !strings.Contains(got, "2026-12-03T08:00:00Z") {
		t.Errorf("version from build info:\n%s", got)
	}
	// A stamped version wins.
	version.Version = "0.2.0"
	fillVersionFrom(&debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}})
	if version.Version != "0.2.0" {
		t.Errorf("build info overrode the stamped version: %s", version.Version)
	}
}

// TestVersionOfPlainBuild builds rulegen with plain `go build`, as a user
// without the Makefile does, and reads its version line.
func TestVersionOfPlainBuild(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go toolchain on PATH")
	}
	bin := filepath.Join(t.TempDir(), "rulegen")
	if out, err := exec.CommandContext(t.Context(), goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(t.Context(), bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("rulegen version: %v\n%s", err, out)
	}
	first := strings.SplitN(string(out), "\n", 2)[0]
	if strings.Contains(first, "version  (") || !strings.HasPrefix(first, "rulegen, version ") {
		t.Errorf("rulegen version after go build: %q, want a version", first)
	}
}
