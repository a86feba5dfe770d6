package rulegen

import (
	"testing"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/promtest"
	"github.com/redline-sre/redline/rulegen/render/dashboard"
	"github.com/redline-sre/redline/rulegen/spec"
)

// TestEveryKindHasEveryBehaviour walks the spec's kinds: each has its keys
// in the spec, a builder in the model, input synthesis in the tests and a
// panel in the dashboard. A kind added to spec.Kinds and forgotten in one
// package fails here, not in a user's spec.
func TestEveryKindHasEveryBehaviour(t *testing.T) {
	for _, k := range spec.Kinds() {
		if len(spec.Keys(k)) == 0 {
			t.Errorf("kind %s: no spec keys (spec/kind_%s.go)", k, k)
		}
		if !model.Builds(k) {
			t.Errorf("kind %s: no model builder (model/kind_%s.go)", k, k)
		}
		if !promtest.Synthesizes(k) {
			t.Errorf("kind %s: no input synthesis (promtest/kind_%s.go)", k, k)
		}
		if !dashboard.Draws(k) {
			t.Errorf("kind %s: no panel (render/dashboard/kind_%s.go)", k, k)
		}
	}
	if spec.Keys("histogram") != nil || model.Builds("histogram") || promtest.Synthesizes("histogram") || dashboard.Draws("histogram") {
		t.Error("a kind that does not exist reports behaviours")
	}
}
