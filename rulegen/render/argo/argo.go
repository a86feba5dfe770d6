// Package argo writes the Argo Rollouts side of the canary: an
// AnalysisTemplate (or ClusterAnalysisTemplate) with one Prometheus metric
// per model check, and a Rollout patch with the stage ladder, built with
// Argo Rollouts' own Go types.
package argo

import (
	"fmt"
	"math"
	"path"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/kube"
)

// The template's arguments: the canary label's values on the two tracks.
// The Rollout patch passes them; the template's values are defaults.
const (
	ArgCanary   = "canary-track"
	ArgBaseline = "baseline-track"
)

// Conditions over the check's one-number answer (see model.Check).
// len() comes first so that an empty result never reaches result[0]
// (argo-rollouts #1466: the index panics and aborts the rollout); NaN
// passes neither, so it is Inconclusive (#180) rather than a silent pass.
const (
	SuccessCondition = "len(result) == 1 && !isNaN(result[0]) && result[0] == 0"
	FailureCondition = "len(result) == 1 && !isNaN(result[0]) && result[0] > 0"
)

// Scope is how the queries name the tracks: Argo substitutes the args.
func Scope(m *model.Model) model.Scope {
	return model.Scope{Label: m.Ladder.Label, Canary: "{{args." + ArgCanary + "}}", Baseline: "{{args." + ArgBaseline + "}}"}
}

// TemplatePath is where the AnalysisTemplate goes.
func TemplatePath(m *model.Model) string {
	return path.Join(m.Outputs.Dir, m.Service+".analysistemplate.yml")
}

// RolloutPath is where the Rollout patch goes.
func RolloutPath(m *model.Model) string {
	return path.Join(m.Outputs.Dir, m.Service+".rollout-patch.yml")
}

func enabled(m *model.Model) bool { return m.Outputs != nil && m.Outputs.ArgoRollouts != nil }

func kind(m *model.Model) string {
	if m.Outputs.ArgoRollouts.ClusterScope {
		return "ClusterAnalysisTemplate"
	}
	return "AnalysisTemplate"
}

// failureLimit lets a metric fail for as long as its alert's for: lets the
// condition hold before the alert fires: measurements every interval, the
// one past for: fails the run. Argo counts failures in total, not in a
// row, which is stricter than for:.
func failureLimit(m *model.Model, a *model.Alert) int {
	o := m.Outputs.ArgoRollouts
	if o.FailureLimit != nil {
		return int(o.FailureLimit.Rat().Num().Int64())
	}
	n := int(math.Ceil(a.For.Seconds()/o.Interval.Seconds())) - 1
	return max(n, 0)
}

// RunMeasurements is how many measurements each metric takes in one
// AnalysisRun: the count when the spec sets one, else every interval of
// the ladder (the background analysis starts with the first stage and is
// terminated when the rollout is promoted after the last).
func RunMeasurements(m *model.Model) int {
	o := m.Outputs.ArgoRollouts
	if o.Count != nil {
		return int(o.Count.Rat().Num().Int64())
	}
	return max(len(m.Ladder.Weights)*int(m.Ladder.StepDuration.Seconds()/o.Interval.Seconds()), 1)
}

// inconclusiveLimit is how many measurements without an answer a metric
// may take in the whole run. Argo Rollouts counts them per metric over
// the AnalysisRun and never resets the count (analysis/analysis.go,
// assessMetricFailureInconclusiveOrError), and one more than the limit
// makes the run Inconclusive, which pauses the rollout. A metric that is
// terminated (promotion) or reaches count within the limit is Successful,
// so the limit must stay below the run's measurements, or a metric that
// never answers passes. The default allows one stage's worth in all (the
// warm-up of a new canary, a first stage too small for the low-traffic
// guards), whenever they come.
func inconclusiveLimit(m *model.Model) int {
	o := m.Outputs.ArgoRollouts
	if o.InconclusiveLimit != nil {
		return int(o.InconclusiveLimit.Rat().Num().Int64())
	}
	stage := max(int(m.Ladder.StepDuration.Seconds()/o.Interval.Seconds()), 1)
	return max(min(stage, RunMeasurements(m)-1), 0)
}

// Template builds the AnalysisTemplate's spec and metadata.
func Template(m *model.Model) (*v1alpha1.AnalysisTemplateSpec, metav1.ObjectMeta, error) {
	o := m.Outputs.ArgoRollouts
	canary, baseline := m.Ladder.Canary, m.Ladder.Baseline
	spec := &v1alpha1.AnalysisTemplateSpec{
		Args: []v1alpha1.Argument{{Name: ArgCanary, Value: &canary}, {Name: ArgBaseline, Value: &baseline}},
	}
	scope := Scope(m)
	for _, c := range m.Checks {
		q, err := c.Query(scope)
		if err != nil {
			return nil, metav1.ObjectMeta{}, err
		}
		metric := v1alpha1.Metric{
			Name:              c.Alert.Name,
			Interval:          v1alpha1.DurationString(o.Interval.String()),
			SuccessCondition:  SuccessCondition,
			FailureCondition:  FailureCondition,
			FailureLimit:      ptr(intstr.FromInt(failureLimit(m, c.Alert))),
			InconclusiveLimit: ptr(intstr.FromInt(inconclusiveLimit(m))),
			Provider:          v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: o.Prometheus, Query: q}},
		}
		if o.Count != nil {
			n := int(o.Count.Rat().Num().Int64())
			// Argo Rollouts refuses a metric whose count is below its
			// failureLimit ("Analysis spec invalid"): the whole run errors.
			if fl := failureLimit(m, c.Alert); fl > n {
				return nil, metav1.ObjectMeta{}, fmt.Errorf("outputs.argo_rollouts.count: %d is below the failureLimit of %s (%d, from its for: %s at interval %s), which Argo Rollouts refuses; raise count or set failure_limit", n, c.Alert.Name, fl, c.Alert.For.String(), o.Interval.String())
			}
			metric.Count = ptr(intstr.FromInt(n))
		}
		spec.Metrics = append(spec.Metrics, metric)
	}
	spec.Args = append(spec.Args, gateArgs(m)...)
	spec.Metrics = append(spec.Metrics, gateMetrics(m)...)
	meta := metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "rulegen"}}
	return spec, meta, nil
}

func ptr[T any](v T) *T { return &v }

// RenderTemplate writes <dir>/<service>.analysistemplate.yml.
func RenderTemplate(m *model.Model) (render.File, error) {
	if !enabled(m) {
		return render.File{}, nil
	}
	spec, meta, err := Template(m)
	if err != nil {
		return render.File{}, err
	}
	tm := metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: kind(m)}
	var obj any = &v1alpha1.AnalysisTemplate{TypeMeta: tm, ObjectMeta: meta, Spec: *spec}
	if m.Outputs.ArgoRollouts.ClusterScope {
		obj = &v1alpha1.ClusterAnalysisTemplate{TypeMeta: tm, ObjectMeta: meta, Spec: *spec}
	}
	data, err := kube.Marshal(m, obj)
	return render.File{Path: TemplatePath(m), Data: data}, err
}

// Canary builds the Rollout's canary strategy: the track labels on the
// pods (Prometheus copies them onto the series), the ladder as setWeight
// and pause steps, and the analysis running in the background from the
// first stage until the rollout is promoted.
func Canary(m *model.Model) *v1alpha1.CanaryStrategy {
	o, l := m.Outputs.ArgoRollouts, m.Ladder
	c := &v1alpha1.CanaryStrategy{
		CanaryMetadata: &v1alpha1.PodTemplateMetadata{Labels: map[string]string{l.Label: l.Canary}},
		StableMetadata: &v1alpha1.PodTemplateMetadata{Labels: map[string]string{l.Label: l.Baseline}},
	}
	pause := intstr.FromString(l.StepDuration.String())
	for _, w := range l.Weights {
		c.Steps = append(c.Steps,
			v1alpha1.CanaryStep{SetWeight: ptr(w)},
			v1alpha1.CanaryStep{Pause: &v1alpha1.RolloutPause{Duration: ptr(pause)}})
	}
	ref := v1alpha1.AnalysisTemplateRef{TemplateName: o.Name}
	if o.ClusterScope {
		ref.ClusterScope = ptr(true)
	}
	c.Analysis = &v1alpha1.RolloutAnalysisBackground{
		RolloutAnalysis: v1alpha1.RolloutAnalysis{
			Templates: []v1alpha1.AnalysisTemplateRef{ref},
			Args:      append([]v1alpha1.AnalysisRunArgument{{Name: ArgCanary, Value: l.Canary}, {Name: ArgBaseline, Value: l.Baseline}}, gateRolloutArgs(m)...),
		},
		StartingStep: ptr(int32(1)),
	}
	return c
}

// RenderRollout writes <dir>/<service>.rollout-patch.yml: a patch (for
// kustomize or kubectl patch --type merge) that sets the Rollout's canary
// strategy and nothing else.
func RenderRollout(m *model.Model) (render.File, error) {
	if !enabled(m) {
		return render.File{}, nil
	}
	o := m.Outputs.ArgoRollouts
	patch := map[string]any{
		"apiVersion": v1alpha1.SchemeGroupVersion.String(),
		"kind":       "Rollout",
		"metadata":   map[string]any{"name": o.Rollout, "namespace": o.Namespace},
		"spec":       map[string]any{"strategy": map[string]any{"canary": Canary(m)}},
	}
	if o.Namespace == "" {
		patch["metadata"] = map[string]any{"name": o.Rollout}
	}
	data, err := kube.Marshal(m, patch)
	return render.File{Path: RolloutPath(m), Data: data}, err
}

// ValidateTemplate decodes the file strictly into Argo's type and checks
// every metric: the query parses as PromQL once Argo has put the args in,
// and both conditions compile with Argo's expression library.
func ValidateTemplate(data []byte) error {
	var head metav1.TypeMeta
	if err := kube.DecodeLoose(data, &head); err != nil {
		return err
	}
	var spec v1alpha1.AnalysisTemplateSpec
	switch head.Kind {
	case "AnalysisTemplate":
		var t v1alpha1.AnalysisTemplate
		if err := kube.DecodeStrict(data, &t); err != nil {
			return err
		}
		spec = t.Spec
	case "ClusterAnalysisTemplate":
		var t v1alpha1.ClusterAnalysisTemplate
		if err := kube.DecodeStrict(data, &t); err != nil {
			return err
		}
		spec = t.Spec
	default:
		return fmt.Errorf("kind %q, want AnalysisTemplate or ClusterAnalysisTemplate", head.Kind)
	}
	if err := kube.Kind(head.APIVersion, head.Kind, v1alpha1.SchemeGroupVersion.String(), head.Kind); err != nil {
		return err
	}
	return validateMetrics(spec)
}

// ValidateRollout decodes the patch strictly into Argo's Rollout type.
func ValidateRollout(data []byte) error {
	var r v1alpha1.Rollout
	if err := kube.DecodeStrict(data, &r); err != nil {
		return err
	}
	if err := kube.Kind(r.APIVersion, r.Kind, v1alpha1.SchemeGroupVersion.String(), "Rollout"); err != nil {
		return err
	}
	c := r.Spec.Strategy.Canary
	if c == nil || len(c.Steps) == 0 || c.Analysis == nil || len(c.Analysis.Templates) != 1 {
		return fmt.Errorf("the patch has no canary steps or analysis")
	}
	return nil
}
