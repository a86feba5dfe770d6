package argo

import (
	"fmt"
	"strings"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/evaluate"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/redline-sre/redline/rulegen/model"
)

// The gate's metrics and arguments, present when the spec sets
// outputs.gate.url (`rulegen serve`).
const (
	// GateMetric reads the stage's verdict: GO passes, NO_GO fails, and
	// NO_DATA passes neither, so it is Inconclusive and pauses the rollout.
	GateMetric = "redline-gate"
	// GateFailedMetric reads the names of the checks that are NO_GO, so
	// that a failed AnalysisRun says which check failed.
	GateFailedMetric = "redline-gate-failed"
	// ArgStage is the ladder's stage the verdict is about (0: the release
	// as a whole, what a background analysis asks).
	ArgStage = "stage"
	// ArgRelease names the release (its evidence directory); the Rollout
	// patch passes the canary's pod-template hash.
	ArgRelease = "release"
	// The verdict metric's conditions over the JSON's verdict field.
	GateSuccessCondition = `result == "GO"`
	GateFailureCondition = `result == "NO_GO"`
)

func gateEnabled(m *model.Model) bool { return m.Outputs != nil && m.Outputs.Gate != nil }

// GateURL is the verdict URL the web metrics ask. engine=argo makes the
// gate answer 200 with every verdict: Argo's web provider turns a non-2xx
// answer into a measurement error and never reads the body.
func GateURL(m *model.Model) string {
	return strings.TrimSuffix(m.Outputs.Gate.URL, "/") + "/api/v1/verdict?engine=argo&release={{args." + ArgRelease + "}}&stage={{args." + ArgStage + "}}"
}

// gateArgs are the template's arguments for the gate, with defaults.
func gateArgs(m *model.Model) []v1alpha1.Argument {
	if !gateEnabled(m) {
		return nil
	}
	stage, release := "0", m.Service
	return []v1alpha1.Argument{{Name: ArgStage, Value: &stage}, {Name: ArgRelease, Value: &release}}
}

// gateMetrics are Argo's built-in web provider asking the gate. Neither
// has a failure limit: the gate's verdict already is the judgement of
// the stage. Unknown measurements get the same limit as the threshold
// metrics: a stage's worth, then the rollout pauses.
func gateMetrics(m *model.Model) []v1alpha1.Metric {
	if !gateEnabled(m) {
		return nil
	}
	o := m.Outputs.ArgoRollouts
	metric := func(name, path, success, failure string) v1alpha1.Metric {
		return v1alpha1.Metric{
			Name:              name,
			Interval:          v1alpha1.DurationString(o.Interval.String()),
			SuccessCondition:  success,
			FailureCondition:  failure,
			FailureLimit:      ptr(intstr.FromInt(0)),
			InconclusiveLimit: ptr(intstr.FromInt(inconclusiveLimit(m))),
			Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{
				// Past serve's default --timeout (60s), so that a slow
				// evaluation answers NO_DATA rather than a request error.
				URL: GateURL(m), JSONPath: path, TimeoutSeconds: 70,
			}},
		}
	}
	return []v1alpha1.Metric{
		metric(GateMetric, "{$.verdict}", GateSuccessCondition, GateFailureCondition),
		metric(GateFailedMetric, "{$.failed}", `result == ""`, `result != ""`),
	}
}

// gateRolloutArgs passes the canary's pod-template hash as the release,
// so that each release's evidence has a directory of its own.
func gateRolloutArgs(m *model.Model) []v1alpha1.AnalysisRunArgument {
	if !gateEnabled(m) {
		return nil
	}
	return []v1alpha1.AnalysisRunArgument{{Name: ArgRelease, ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: ptr(v1alpha1.Latest)}}}
}

// validateWeb checks a gate metric: an http(s) URL whose arguments the
// template defines, and both conditions compiled by Argo's evaluator.
func validateWeb(s v1alpha1.AnalysisTemplateSpec, mt v1alpha1.Metric) error {
	u := mt.Provider.Web.URL
	for _, a := range s.Args {
		if a.Value != nil {
			u = strings.ReplaceAll(u, "{{args."+a.Name+"}}", *a.Value)
		}
	}
	if strings.Contains(u, "{{") || !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
		return fmt.Errorf("metric %s: the URL %q is not http(s) or names an argument the template does not define", mt.Name, mt.Provider.Web.URL)
	}
	for _, v := range []string{"GO", "NO_GO", "NO_DATA", ""} {
		if _, err := evaluate.EvaluateResult(v, mt, quietLog); err != nil {
			return fmt.Errorf("metric %s: %w", mt.Name, err)
		}
	}
	return nil
}
