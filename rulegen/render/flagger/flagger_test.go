package flagger_test

import (
	"slices"
	"strings"
	"testing"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/flagger"
	"github.com/redline-sre/redline/rulegen/render/kube"
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

// TestCanaryFollowsTheLadder: the analysis steps through the spec's
// ladder, one step per step_duration, with a metric per template.
func TestCanaryFollowsTheLadder(t *testing.T) {
	m := platform(t)
	f, err := flagger.RenderCanary(m)
	if err != nil {
		t.Fatal(err)
	}
	var c flaggerv1.Canary
	if err := kube.DecodeStrict(f.Data, &c); err != nil {
		t.Fatal(err)
	}
	a := c.Spec.Analysis
	if !slices.Equal(a.StepWeights, []int{1, 5, 25, 50, 100}) || a.Interval != "15m" {
		t.Errorf("stepWeights %v interval %s, want the platform's run of show [1 5 25 50 100] every 15m", a.StepWeights, a.Interval)
	}
	if len(a.Metrics) != len(m.Checks) {
		t.Errorf("%d metrics for %d checks", len(a.Metrics), len(m.Checks))
	}
	mf, err := flagger.RenderMetrics(m)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := kube.Documents(mf.Data)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, d := range docs {
		var mt flaggerv1.MetricTemplate
		if err := kube.DecodeStrict(d, &mt); err != nil {
			t.Fatal(err)
		}
		names[mt.Name] = true
		q := mt.Spec.Query
		if strings.Contains(mt.Name, "canary-worse") && !strings.Contains(q, `app="{{ target }}-primary"`) {
			t.Errorf("%s compares with no primary:\n%s", mt.Name, q)
		}
		if strings.Contains(q, "track") {
			t.Errorf("%s names the Argo track label, which Flagger's pods do not carry:\n%s", mt.Name, q)
		}
	}
	for _, mt := range a.Metrics {
		if !names[mt.TemplateRef.Name] {
			t.Errorf("metric %s refers to template %s, which is not generated", mt.Name, mt.TemplateRef.Name)
		}
	}
}

// TestValidateIsStrict: fields Flagger's types lack are errors.
func TestValidateIsStrict(t *testing.T) {
	m := platform(t)
	c, err := flagger.RenderCanary(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := flagger.ValidateCanary([]byte(strings.Replace(string(c.Data), "stepWeights:", "stepWeight_s:", 1))); err == nil {
		t.Error("a Canary patch with an unknown field validates")
	}
	mf, err := flagger.RenderMetrics(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := flagger.ValidateMetrics([]byte(strings.Replace(string(mf.Data), "query:", "querry:", 1))); err == nil {
		t.Error("a MetricTemplate with an unknown field validates")
	}
}
