package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputsErrors pins the messages of the ladder and the outputs:
// section, kept apart from TestLoadErrors' table.
func TestOutputsErrors(t *testing.T) {
	want := map[string]string{
		"invalid-ladder.yml": strings.Join([]string{
			`testdata/outputs/invalid-ladder.yml:11:10: canary.steps: the last step must be 100%: the ladder ends with the whole traffic on the release`,
			`testdata/outputs/invalid-ladder.yml:11:15: canary.steps[1]: a step is a whole percent from 1% to 100%, got 2.5%`,
			`testdata/outputs/invalid-ladder.yml:11:21: canary.steps[2]: a step is a share of traffic such as 5%, got 0.5`,
			`testdata/outputs/invalid-ladder.yml:11:26: canary.steps[3]: a step is a whole percent from 1% to 100%, got 150%`,
			`testdata/outputs/invalid-ladder.yml:11:32: canary.steps[4]: steps must rise: 50% does not follow 150%`,
			`testdata/outputs/invalid-ladder.yml:12:18: canary.step_duration: step_duration must be at least 1m, got 30s`,
			`testdata/outputs/invalid-ladder.yml:13:20: canary.selectors[1]: unknown selector "web" (selectors: app)`,
		}, "\n"),
		"invalid-outputs.yml": strings.Join([]string{
			`testdata/outputs/invalid-outputs.yml:8:8: outputs.dir: dir must be a relative path inside the output directory`,
			`testdata/outputs/invalid-outputs.yml:10:5: outputs.prometheus_rule.namespace: missing key "namespace"`,
			`testdata/outputs/invalid-outputs.yml:10:23: outputs.prometheus_rule.labels.release: "kube prometheus" is not a Kubernetes label value (at most 63 letters, digits, -, _ and .)`,
			`testdata/outputs/invalid-outputs.yml:12:5: outputs.argo_rollouts: needs canary: with steps (the stage ladder) and selectors (the series the canary's pods report)`,
			`testdata/outputs/invalid-outputs.yml:12:16: outputs.argo_rollouts.namespace: a ClusterAnalysisTemplate (cluster_scope: true) has no namespace`,
			`testdata/outputs/invalid-outputs.yml:12:16: outputs.argo_rollouts.namespace: "Apps" is not a Kubernetes name (lower case letters, digits, - and .)`,
			`testdata/outputs/invalid-outputs.yml:14:17: outputs.argo_rollouts.prometheus: must be an http or https URL`,
			`testdata/outputs/invalid-outputs.yml:15:15: outputs.argo_rollouts.interval: interval must be at least 10s, got 5s`,
			`testdata/outputs/invalid-outputs.yml:16:20: outputs.argo_rollouts.failure_limit: must be a whole number of at least 0, got 1.5`,
			`testdata/outputs/invalid-outputs.yml:18:25: outputs.argo_rollouts.inconclusive_limit: inconclusive_limit (10) must be less than count (10): Argo Rollouts calls a metric Successful at count while its Inconclusive measurements are within the limit, so a metric that never answers would pass`,
			`testdata/outputs/invalid-outputs.yml:20:5: outputs.flagger: needs canary: with steps (the stage ladder) and selectors (the series the canary's pods report)`,
			`testdata/outputs/invalid-outputs.yml:22:16: outputs.flagger.threshold: must be a whole number of at least 1, got 0`,
			`testdata/outputs/invalid-outputs.yml:23:12: outputs.flagger.label: invalid label name "app-name"`,
			`testdata/outputs/invalid-outputs.yml:25:16: outputs.mimir.namespace: a ruler namespace cannot contain / or \`,
			`testdata/outputs/invalid-outputs.yml:27:10: outputs.gate.url: must be an http or https URL`,
		}, "\n"),
	}
	for name, msg := range want {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "outputs", name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(path, data)
			if err == nil {
				t.Fatal("loads without error")
			}
			if err.Error() != msg {
				t.Errorf("error:\n%s\nwant:\n%s", err, msg)
			}
		})
	}
}
