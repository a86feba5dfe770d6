package flagger_test

import (
	"testing"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/flagger"
	"github.com/redline-sre/redline/rulegen/spec"
)

// TestGateWebhooks: without outputs.gate the Canary has no gate webhook;
// with it, one of each of GateHooks at <url>/flagger/<type>, and never a
// rollout hook (its failures count toward the rollback threshold).
func TestGateWebhooks(t *testing.T) {
	s, err := spec.LoadFile("testdata/shop.spec.yml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "shop.spec.yml")
	if err != nil {
		t.Fatal(err)
	}
	before := len(flagger.Analysis(m).Webhooks)
	m.Outputs.Gate = &spec.GateOutput{URL: "https://gate.example:9460"}
	hooks := flagger.Analysis(m).Webhooks[before:]
	if len(hooks) != len(flagger.GateHooks) {
		t.Fatalf("%d gate webhooks, want %d: %+v", len(hooks), len(flagger.GateHooks), hooks)
	}
	for i, h := range hooks {
		if h.Type != flagger.GateHooks[i] || h.URL != "https://gate.example:9460/flagger/"+string(h.Type) {
			t.Errorf("webhook %d: %s %s", i, h.Type, h.URL)
		}
		if h.Type == flaggerv1.RolloutHook {
			t.Errorf("a rollout hook: no data would count toward a rollback")
		}
	}
}
