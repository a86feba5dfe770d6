package prometheusrule_test

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/kube"
	"github.com/redline-sre/redline/rulegen/render/prometheusrule"
	"github.com/redline-sre/redline/rulegen/render/rulefile"
	"github.com/redline-sre/redline/rulegen/spec"
)

func platform(t *testing.T) *model.Model {
	t.Helper()
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, spec.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCarriesTheRuleFile: the PrometheusRule holds exactly the groups of
// the rule file, rule by rule, as Prometheus's own parser reads both.
func TestCarriesTheRuleFile(t *testing.T) {
	m := platform(t)
	f, err := prometheusrule.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := prometheusrule.Validate(f.Data); err != nil {
		t.Fatal(err)
	}
	var pr monitoringv1.PrometheusRule
	if err := kube.DecodeStrict(f.Data, &pr); err != nil {
		t.Fatal(err)
	}
	if pr.Namespace != "monitoring" || pr.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("namespace %q labels %v, want the spec's (ruleSelector must match them)", pr.Namespace, pr.Labels)
	}
	rf, err := rulefile.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	want, errs := rulefmt.Parse(rf.Data, false, commonmodel.UTF8Validation, spec.Parser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(pr.Spec.Groups) != len(want.Groups) {
		t.Fatalf("%d groups, the rule file has %d", len(pr.Spec.Groups), len(want.Groups))
	}
	for i, g := range pr.Spec.Groups {
		w := want.Groups[i]
		if g.Name != w.Name || len(g.Rules) != len(w.Rules) {
			t.Fatalf("group %d is %s with %d rules, the rule file's is %s with %d", i, g.Name, len(g.Rules), w.Name, len(w.Rules))
		}
		for j, r := range g.Rules {
			wr := w.Rules[j]
			forText := ""
			if r.For != nil {
				forText = string(*r.For)
			}
			wantFor := ""
			if wr.Alert != "" {
				wantFor = wr.For.String()
			}
			if r.Record != wr.Record || r.Alert != wr.Alert || r.Expr.String() != wr.Expr || forText != wantFor ||
				!reflect.DeepEqual(nonNil(r.Labels), nonNil(wr.Labels)) || !reflect.DeepEqual(nonNil(r.Annotations), nonNil(wr.Annotations)) {
				t.Errorf("group %s rule %d differs from the rule file:\n%+v\n%+v", g.Name, j, r, wr)
			}
		}
	}
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// TestValidateIsStrict: a field the operator's type lacks is an error, and
// so is a rule Prometheus would reject.
func TestValidateIsStrict(t *testing.T) {
	f, err := prometheusrule.Render(platform(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"unknown field": strings.Replace(string(f.Data), "  groups:", "  group:", 1),
		"bad promql":    strings.Replace(string(f.Data), "expr: sum by (le)", "expr: sum by (le", 1),
	} {
		if err := prometheusrule.Validate([]byte(bad)); err == nil {
			t.Errorf("%s: validates", name)
		}
	}
}
