package promtest

import (
	"testing"

	"github.com/redline-sre/redline/rulegen/spec"
)

// TestEveryKindSynthesizes: every kind of the spec has input synthesis, and a kind the spec
// does not have has none. A kind added to spec.Kinds and forgotten here fails
// this test, not a user's spec.
func TestEveryKindSynthesizes(t *testing.T) {
	for _, k := range spec.Kinds() {
		if _, ok := synthKinds[k]; !ok {
			t.Errorf("kind %s: missing input synthesis (promtest/kind_%s.go)", k, k)
		}
	}
	if _, ok := synthKinds["histogram"]; ok {
		t.Error("a kind that does not exist has input synthesis")
	}
}
