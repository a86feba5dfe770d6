package spec

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPlatformTriggersDocumented keeps docs/platform-triggers.md in step
// with the built-in spec: every trigger has a row, and the table of held
// back alerts lists exactly the spec's inhibited_by pairs, each with its
// reason.
func TestPlatformTriggersDocumented(t *testing.T) {
	data, err := os.ReadFile("../../docs/platform-triggers.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, tr := range s.Triggers {
		if !strings.Contains(doc, "| `"+tr.Name+"` |") {
			t.Errorf("docs/platform-triggers.md has no row for trigger %s", tr.Name)
		}
		for _, cause := range tr.InhibitedBy {
			want[tr.Name+" by "+cause] = true
		}
	}
	_, section, ok := strings.Cut(doc, "\n## One outage, one page\n")
	if !ok {
		t.Fatal(`docs/platform-triggers.md has no section "One outage, one page"`)
	}
	row := regexp.MustCompile("(?m)^\\| `(\\w+)` \\| `(\\w+)` \\| [^|]+ \\| ([^|]*) \\|$")
	got := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		pair := m[1] + " by " + m[2]
		got[pair] = true
		if !want[pair] {
			t.Errorf("docs/platform-triggers.md holds back %s, which the spec does not", pair)
		}
		if strings.TrimSpace(m[3]) == "" {
			t.Errorf("docs/platform-triggers.md gives no reason for %s", pair)
		}
	}
	for pair := range want {
		if !got[pair] {
			t.Errorf("docs/platform-triggers.md has no row for inhibited_by pair %s", pair)
		}
	}
	if len(want) == 0 {
		t.Error("the platform spec has no inhibited_by; the check above would pass on nothing")
	}
}
