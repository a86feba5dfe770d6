package argo_test

import (
	"strings"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/evaluate"
	"github.com/sirupsen/logrus"

	"github.com/redline-sre/redline/rulegen/render/argo"
	"github.com/redline-sre/redline/rulegen/spec"
)

var quiet = *logrus.NewEntry(logrus.New())

// TestGateMetrics: without outputs.gate the template has no web metric;
// with it, the verdict metric passes GO, fails NO_GO and leaves NO_DATA
// Inconclusive under Argo's own evaluator, the failed-checks metric fails
// on any name, the URL asks with engine=argo, and the Rollout passes the
// pod-template hash as the release.
func TestGateMetrics(t *testing.T) {
	m := loadModel(t, "testdata/shop.spec.yml")
	tmpl, _, err := argo.Template(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, mt := range tmpl.Metrics {
		if mt.Provider.Web != nil {
			t.Fatalf("metric %s asks a gate the spec does not name", mt.Name)
		}
	}
	m.Outputs.Gate = &spec.GateOutput{URL: "http://gate.monitoring:9460/"}
	tmpl, _, err = argo.Template(m)
	if err != nil {
		t.Fatal(err)
	}
	web := map[string]v1alpha1.Metric{}
	for _, mt := range tmpl.Metrics {
		if mt.Provider.Web != nil {
			web[mt.Name] = mt
		}
	}
	S, F, I := v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseInconclusive
	for name, cases := range map[string]map[string]v1alpha1.AnalysisPhase{
		argo.GateMetric:       {"GO": S, "NO_GO": F, "NO_DATA": I},
		argo.GateFailedMetric: {"": S, "trigger:HttpErrorsHigh": F},
	} {
		mt, ok := web[name]
		if !ok {
			t.Fatalf("no %s metric", name)
		}
		if want := "http://gate.monitoring:9460/api/v1/verdict?engine=argo&release={{args.release}}&stage={{args.stage}}"; mt.Provider.Web.URL != want {
			t.Errorf("%s URL %s, want %s", name, mt.Provider.Web.URL, want)
		}
		for value, want := range cases {
			got, err := evaluate.EvaluateResult(value, mt, quiet)
			if err != nil || got != want {
				t.Errorf("%s on %q: %s (%v), want %s", name, value, got, err, want)
			}
		}
	}
	c := argo.Canary(m)
	found := false
	for _, a := range c.Analysis.Args {
		if a.Name == argo.ArgRelease && a.ValueFrom != nil && a.ValueFrom.PodTemplateHashValue != nil && *a.ValueFrom.PodTemplateHashValue == v1alpha1.Latest {
			found = true
		}
	}
	if !found {
		t.Errorf("the Rollout does not pass the release: %+v", c.Analysis.Args)
	}
	f, err := argo.RenderTemplate(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := argo.ValidateTemplate(f.Data); err != nil {
		t.Errorf("the template with the gate does not validate: %v", err)
	}
	if !strings.Contains(string(f.Data), `jsonPath: '{$.verdict}'`) {
		t.Errorf("no {$.verdict} jsonPath:\n%s", f.Data)
	}
}
