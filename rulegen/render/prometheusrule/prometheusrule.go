// Package prometheusrule writes the rule file as a prometheus-operator
// PrometheusRule, built with the operator's own Go types: the same groups
// as rules/<service>.rules.yml, with the namespace and the labels the
// Prometheus resource's ruleSelector matches.
package prometheusrule

import (
	"fmt"
	"path"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/kube"
	"github.com/redline-sre/redline/rulegen/render/rulefile"
	"github.com/redline-sre/redline/rulegen/validate"
)

// Path is where the PrometheusRule of a model goes.
func Path(m *model.Model) string {
	return path.Join(m.Outputs.Dir, m.Service+".prometheusrule.yml")
}

// Build returns the PrometheusRule object.
func Build(m *model.Model) *monitoringv1.PrometheusRule {
	o := m.Outputs.PrometheusRule
	pr := &monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusRuleKind},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: o.Labels},
	}
	for _, g := range rulefile.Groups(m) {
		rg := monitoringv1.RuleGroup{Name: g.Name}
		for _, r := range g.Rules {
			rule := monitoringv1.Rule{Record: r.Record, Alert: r.Alert, Expr: intstr.FromString(r.Expr), Labels: r.Labels, Annotations: r.Annotations}
			if r.Alert != "" {
				d := monitoringv1.Duration(r.For)
				rule.For = &d
			}
			rg.Rules = append(rg.Rules, rule)
		}
		pr.Spec.Groups = append(pr.Spec.Groups, rg)
	}
	return pr
}

// Render writes <dir>/<service>.prometheusrule.yml when the spec asks for it.
func Render(m *model.Model) (render.File, error) {
	if m.Outputs == nil || m.Outputs.PrometheusRule == nil {
		return render.File{}, nil
	}
	data, err := kube.Marshal(m, Build(m))
	return render.File{Path: Path(m), Data: data}, err
}

// Validate decodes the file strictly into the operator's type and checks
// its groups with Prometheus's own rule-file parser, as the operator does
// before it writes them for Prometheus.
func Validate(data []byte) error {
	var pr monitoringv1.PrometheusRule
	if err := kube.DecodeStrict(data, &pr); err != nil {
		return err
	}
	if err := kube.Kind(pr.APIVersion, pr.Kind, monitoringv1.SchemeGroupVersion.String(), monitoringv1.PrometheusRuleKind); err != nil {
		return err
	}
	if pr.Name == "" || pr.Namespace == "" {
		return fmt.Errorf("PrometheusRule without a name or namespace")
	}
	groups, err := sigsyaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
	if err != nil {
		return err
	}
	return validate.Rules(groups)
}
