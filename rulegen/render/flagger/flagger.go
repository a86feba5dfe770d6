// Package flagger writes the Flagger side of the canary: a MetricTemplate
// per model check and a Canary patch with the analysis (the ladder as
// stepWeights, a metric per template with thresholdRange max 0, and the
// rollback hook when the spec names one), built with Flagger's Go types.
package flagger

import (
	"fmt"
	"path"
	"strings"
	"text/template"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/kube"
	"github.com/redline-sre/redline/rulegen/spec"
)

// Scope is how the queries tell Flagger's pods apart: the canary keeps the
// target's name in its selector label, the primary gets -primary.
func Scope(m *model.Model) model.Scope {
	return model.Scope{Label: m.Outputs.Flagger.Label, Canary: "{{ target }}", Baseline: "{{ target }}-primary"}
}

// MetricsPath is where the MetricTemplates go.
func MetricsPath(m *model.Model) string {
	return path.Join(m.Outputs.Dir, m.Service+".flagger-metrictemplates.yml")
}

// CanaryPath is where the Canary patch goes.
func CanaryPath(m *model.Model) string {
	return path.Join(m.Outputs.Dir, m.Service+".flagger-canary-patch.yml")
}

func enabled(m *model.Model) bool { return m.Outputs != nil && m.Outputs.Flagger != nil }

// TemplateName is a check's MetricTemplate name: the service and the alert
// in lower case (Kubernetes names are DNS labels).
func TemplateName(m *model.Model, c *model.Check) string {
	return m.Service + "-" + kebab(c.Alert.Name)
}

func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		if r == '_' {
			r = '-'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Templates builds one MetricTemplate per check.
func Templates(m *model.Model) ([]*flaggerv1.MetricTemplate, error) {
	o := m.Outputs.Flagger
	var out []*flaggerv1.MetricTemplate
	for _, c := range m.Checks {
		q, err := c.Query(Scope(m))
		if err != nil {
			return nil, err
		}
		out = append(out, &flaggerv1.MetricTemplate{
			TypeMeta:   metav1.TypeMeta{APIVersion: flaggerv1.SchemeGroupVersion.String(), Kind: "MetricTemplate"},
			ObjectMeta: metav1.ObjectMeta{Name: TemplateName(m, c), Namespace: o.Namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "rulegen"}},
			Spec: flaggerv1.MetricTemplateSpec{
				Provider: flaggerv1.MetricTemplateProvider{Type: "prometheus", Address: o.Prometheus},
				Query:    q,
			},
		})
	}
	return out, nil
}

// RenderMetrics writes <dir>/<service>.flagger-metrictemplates.yml.
func RenderMetrics(m *model.Model) (render.File, error) {
	if !enabled(m) {
		return render.File{}, nil
	}
	ts, err := Templates(m)
	if err != nil {
		return render.File{}, err
	}
	objs := make([]any, len(ts))
	for i, t := range ts {
		objs[i] = t
	}
	data, err := kube.Marshal(m, objs...)
	return render.File{Path: MetricsPath(m), Data: data}, err
}

// Analysis builds the Canary's analysis. Flagger moves one step per
// successful interval, so the interval is the ladder's step_duration; a
// check that finds no value (no traffic, NaN) halts the step and counts as
// a failed check, and threshold failed checks roll the canary back.
func Analysis(m *model.Model) *flaggerv1.CanaryAnalysis {
	o, l := m.Outputs.Flagger, m.Ladder
	a := &flaggerv1.CanaryAnalysis{
		Interval:  l.StepDuration.String(),
		Threshold: int(o.Threshold.Rat().Num().Int64()),
	}
	for _, w := range l.Weights {
		a.StepWeights = append(a.StepWeights, int(w))
	}
	zero := 0.0
	for _, c := range m.Checks {
		a.Metrics = append(a.Metrics, flaggerv1.CanaryMetric{
			Name:           kebab(c.Alert.Name),
			Interval:       l.StepDuration.String(),
			ThresholdRange: &flaggerv1.CanaryThresholdRange{Max: &zero},
			TemplateRef:    &flaggerv1.CrossNamespaceObjectReference{Name: TemplateName(m, c), Namespace: o.Namespace},
		})
	}
	if o.RollbackHook != "" {
		a.Webhooks = append(a.Webhooks, flaggerv1.CanaryWebhook{Name: m.Service + "-rollback", Type: flaggerv1.RollbackHook, URL: o.RollbackHook, Timeout: "10s"})
	}
	a.Webhooks = append(a.Webhooks, gateWebhooks(m)...)
	return a
}

// RenderCanary writes <dir>/<service>.flagger-canary-patch.yml, a patch
// that sets the Canary's analysis.
func RenderCanary(m *model.Model) (render.File, error) {
	if !enabled(m) {
		return render.File{}, nil
	}
	o := m.Outputs.Flagger
	patch := map[string]any{
		"apiVersion": flaggerv1.SchemeGroupVersion.String(),
		"kind":       "Canary",
		"metadata":   map[string]any{"name": o.Canary, "namespace": o.Namespace},
		"spec":       map[string]any{"analysis": Analysis(m)},
	}
	data, err := kube.Marshal(m, patch)
	return render.File{Path: CanaryPath(m), Data: data}, err
}

// ValidateMetrics decodes every MetricTemplate strictly into Flagger's type
// and parses its query once Flagger has filled in the target.
func ValidateMetrics(data []byte) error {
	docs, err := kube.Documents(data)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return fmt.Errorf("no MetricTemplate")
	}
	for i := range docs {
		var t flaggerv1.MetricTemplate
		if err := kube.DecodeStrict(docs[i], &t); err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
		if err := kube.Kind(t.APIVersion, t.Kind, flaggerv1.SchemeGroupVersion.String(), "MetricTemplate"); err != nil {
			return err
		}
		if t.Spec.Provider.Type != "prometheus" || t.Spec.Provider.Address == "" {
			return fmt.Errorf("%s: not a Prometheus provider with an address", t.Name)
		}
		q, err := Render(t.Spec.Query, "podinfo")
		if err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
		if _, err := spec.Parser.ParseExpr(q); err != nil {
			return fmt.Errorf("%s: query: %w", t.Name, err)
		}
	}
	return nil
}

// Render fills a MetricTemplate query for a Canary's target as Flagger
// does (pkg/metrics/observers/render.go): a Go text template with the
// functions of Flagger's own MetricTemplateModel, missing keys an error.
func Render(query, target string) (string, error) {
	model := flaggerv1.MetricTemplateModel{Name: target, Namespace: "default", Target: target, Service: target, Interval: "1m"}
	t, err := template.New("query").Option("missingkey=error").Funcs(model.TemplateFunctions()).Parse(query)
	if err != nil {
		return "", fmt.Errorf("query template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return "", fmt.Errorf("query template: %w", err)
	}
	return b.String(), nil
}

// ValidateCanary decodes the patch strictly into Flagger's Canary type.
func ValidateCanary(data []byte) error {
	var c flaggerv1.Canary
	if err := kube.DecodeStrict(data, &c); err != nil {
		return err
	}
	if err := kube.Kind(c.APIVersion, c.Kind, flaggerv1.SchemeGroupVersion.String(), "Canary"); err != nil {
		return err
	}
	a := c.Spec.Analysis
	if a == nil || len(a.StepWeights) == 0 || len(a.Metrics) == 0 {
		return fmt.Errorf("the patch has no analysis with stepWeights and metrics")
	}
	for _, mt := range a.Metrics {
		if mt.TemplateRef == nil || mt.ThresholdRange == nil || mt.ThresholdRange.Max == nil {
			return fmt.Errorf("metric %s: no templateRef or thresholdRange max", mt.Name)
		}
	}
	return nil
}
