package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/rulegen/spec"
)

func TestPlatformSpecOverridesTimingsAndWebhook(t *testing.T) {
	data, err := PlatformSpec(SpecOverrides{WebhookURL: "http://127.0.0.1:1234/hook", For: 3 * time.Second, GroupWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := GenerateInto(dir, "demo spec", data); err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile(filepath.Join(dir, "rules", "platform.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	am, err := os.ReadFile(filepath.Join(dir, "alertmanager", "platform.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(am), "http://127.0.0.1:1234/hook") || !strings.Contains(string(am), "group_wait: 1s") {
		t.Errorf("alertmanager config lacks the overrides:\n%s", am)
	}
	// Every trigger's alert waits 3s but the step-proof ones; burn-rate
	// alerts keep their own `for`.
	var file struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				For   string `yaml:"for"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rules, &file); err != nil {
		t.Fatal(err)
	}
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	forOf := map[string]string{}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				forOf[r.Alert] = r.For
			}
		}
	}
	// Triggers whose `for` outlasts their rate or deriv window keep it:
	// the margin is what keeps a one-time step from firing them (the demo's
	// saturated pool opened connections and fired ConnectionLeak).
	keep := map[string]bool{"ConnectionLeak": true, "MemoryLeak": true, "ReconnectStorm": true}
	for _, trig := range s.Triggers {
		want := "3s"
		if keep[trig.Name] {
			want = trig.For.String()
		}
		if got, ok := forOf[trig.Name]; !ok || got != want {
			t.Errorf("trigger %s: for = %q (present %v), want %s", trig.Name, got, ok, want)
		}
	}
}
