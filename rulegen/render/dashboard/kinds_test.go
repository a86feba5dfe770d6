package dashboard

import (
	"testing"

	"github.com/redline-sre/redline/rulegen/spec"
)

// TestEveryKindDraws: every kind of the spec has a panel, and a kind the spec
// does not have has none. A kind added to spec.Kinds and forgotten here fails
// this test, not a user's spec.
func TestEveryKindDraws(t *testing.T) {
	for _, k := range spec.Kinds() {
		if _, ok := panelKinds[k]; !ok {
			t.Errorf("kind %s: missing its panel (render/dashboard/kind_%s.go)", k, k)
		}
	}
	if _, ok := panelKinds["histogram"]; ok {
		t.Error("a kind that does not exist has a panel")
	}
}
