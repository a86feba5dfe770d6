package model

import (
	"testing"

	"github.com/redline-sre/redline/rulegen/spec"
)

// TestEveryKindBuilds: every kind of the spec has a builder, and a kind the spec
// does not have has none. A kind added to spec.Kinds and forgotten here fails
// this test, not a user's spec.
func TestEveryKindBuilds(t *testing.T) {
	for _, k := range spec.Kinds() {
		if _, ok := signalKinds[k]; !ok {
			t.Errorf("kind %s: missing its builder (model/kind_%s.go)", k, k)
		}
	}
	if _, ok := signalKinds["histogram"]; ok {
		t.Error("a kind that does not exist has a builder")
	}
}
