package argo

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/evaluate"
	"github.com/sirupsen/logrus"

	"github.com/redline-sre/redline/rulegen/spec"
)

// answers are the shapes a check's query can return, and the phase Argo
// must give each: the conditions are run through Argo's own evaluator.
var answers = []struct {
	result []float64
	want   v1alpha1.AnalysisPhase
}{
	{[]float64{}, v1alpha1.AnalysisPhaseInconclusive},
	{[]float64{math.NaN()}, v1alpha1.AnalysisPhaseInconclusive},
	{[]float64{0}, v1alpha1.AnalysisPhaseSuccessful},
	{[]float64{1}, v1alpha1.AnalysisPhaseFailed},
	{[]float64{3}, v1alpha1.AnalysisPhaseFailed},
}

var quietLog = func() logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return *logrus.NewEntry(l)
}()

// Evaluate runs a metric's conditions on a result as Argo Rollouts does.
func Evaluate(metric v1alpha1.Metric, result []float64) (v1alpha1.AnalysisPhase, error) {
	return evaluate.EvaluateResult(result, metric, quietLog)
}

func validateMetrics(s v1alpha1.AnalysisTemplateSpec) error {
	if len(s.Metrics) == 0 {
		return fmt.Errorf("no metrics")
	}
	var errs []error
	for _, mt := range s.Metrics {
		if mt.Provider.Web != nil {
			if err := validateWeb(s, mt); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		p := mt.Provider.Prometheus
		if p == nil || p.Address == "" {
			errs = append(errs, fmt.Errorf("metric %s: no Prometheus provider address", mt.Name))
			continue
		}
		q := p.Query
		for _, a := range s.Args {
			if a.Value != nil {
				q = strings.ReplaceAll(q, "{{args."+a.Name+"}}", *a.Value)
			}
		}
		if strings.Contains(q, "{{") {
			errs = append(errs, fmt.Errorf("metric %s: the query names an argument the template does not define", mt.Name))
		}
		if _, err := spec.Parser.ParseExpr(q); err != nil {
			errs = append(errs, fmt.Errorf("metric %s: query: %w", mt.Name, err))
		}
		for _, a := range answers {
			got, err := Evaluate(mt, a.result)
			if err != nil || got != a.want {
				errs = append(errs, fmt.Errorf("metric %s: result %v is %s (error %v), want %s", mt.Name, a.result, got, err, a.want))
			}
		}
	}
	return errors.Join(errs...)
}
