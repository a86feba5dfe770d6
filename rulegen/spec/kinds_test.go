package spec

import (
	"testing"
)

// TestEveryKindHasKeys: every kind of the spec has its own keys, and a kind the spec
// does not have has none. A kind added to spec.Kinds and forgotten here fails
// this test, not a user's spec.
func TestEveryKindHasKeys(t *testing.T) {
	for _, k := range Kinds() {
		if sk, ok := signalKinds[k]; !ok || len(sk.keys()) == 0 {
			t.Errorf("kind %s: missing its keys (spec/kind_%s.go)", k, k)
		}
	}
	if _, ok := signalKinds["histogram"]; ok {
		t.Error("a kind that does not exist has its own keys")
	}
}
