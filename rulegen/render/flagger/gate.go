package flagger

import (
	"strings"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"

	"github.com/redline-sre/redline/rulegen/model"
)

// GateHooks are the hook types the Canary patch points at the gate
// (`rulegen serve`) when the spec sets outputs.gate.url, in Flagger's
// order. confirm-traffic-increase, not rollout: a failing rollout hook
// counts as a failed check and threshold of them roll the canary back,
// so no data would end in a rollback (flagger #1035); a failing
// confirm-traffic-increase hook halts the step and counts nothing. The
// rollback hook answers 2xx only on NO_GO, which rolls back at once.
var GateHooks = []flaggerv1.HookType{
	flaggerv1.PreRolloutHook,
	flaggerv1.ConfirmTrafficIncreaseHook,
	flaggerv1.ConfirmPromotionHook,
	flaggerv1.RollbackHook,
}

// gateWebhooks are the webhooks asking the gate. The gate names the
// release <namespace>.<name> from Flagger's payload.
func gateWebhooks(m *model.Model) []flaggerv1.CanaryWebhook {
	if m.Outputs == nil || m.Outputs.Gate == nil {
		return nil
	}
	base := strings.TrimSuffix(m.Outputs.Gate.URL, "/")
	var out []flaggerv1.CanaryWebhook
	for _, t := range GateHooks {
		out = append(out, flaggerv1.CanaryWebhook{
			Name: m.Service + "-gate-" + string(t), Type: t, URL: base + "/flagger/" + string(t), Timeout: "30s",
		})
	}
	return out
}
