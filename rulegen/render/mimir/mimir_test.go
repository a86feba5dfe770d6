package mimir_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/mimir"
	"github.com/redline-sre/redline/rulegen/render/rulefile"
	"github.com/redline-sre/redline/rulegen/spec"
)

// TestNamespaceFileIsTheRuleFile: the namespace file is the rule file with
// a namespace: line, what mimirtool rules load reads.
func TestNamespaceFileIsTheRuleFile(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, spec.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	f, err := mimir.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := mimir.Validate(f.Data); err != nil {
		t.Fatal(err)
	}
	rf, err := rulefile.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	_, groups, ok := bytes.Cut(f.Data, []byte("namespace: platform\n"))
	_, want, _ := bytes.Cut(rf.Data, []byte("DO NOT EDIT.\n# Regenerate with `"+render.RegenerateCommand(m)+"`; `rulegen check` with the same flags fails when this file is stale.\n"))
	if !ok || !bytes.Equal(groups, want) {
		t.Errorf("the namespace file's groups differ from the rule file's")
	}
	if err := mimir.Validate([]byte(strings.Replace(string(f.Data), "namespace:", "tenant:", 1))); err == nil {
		t.Error("a file with an unknown key validates")
	}
}
