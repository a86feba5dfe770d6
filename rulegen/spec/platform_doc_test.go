package spec

import (
	"os"
	"strings"
	"testing"
)

// TestPlatformTriggersDocumented keeps docs/platform-triggers.md in step
// with the built-in spec: every trigger has a row.
func TestPlatformTriggersDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/platform-triggers.md")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range s.Triggers {
		if !strings.Contains(string(doc), "| `"+tr.Name+"` |") {
			t.Errorf("docs/platform-triggers.md has no row for trigger %s", tr.Name)
		}
	}
}
