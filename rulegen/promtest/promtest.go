// Package promtest writes promtool unit tests for generated rules: every
// alert fires just beyond its threshold once `for` has passed and stays
// silent just within it and without traffic; every recording rule is
// checked with promql_expr_test. Inputs are synthesized from the spec's
// selectors, so the tests exercise the real expressions end to end.
package promtest

import (
	"fmt"
	"strconv"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// Generate builds the tests for a model whose rules are in rulesFile
// (relative to the test file).
func Generate(m *model.Model, rulesFile string) (*File, error) {
	return generate(m, rulesFile, true)
}

// generate builds the tests; merge runs groups that cannot see each other's
// series together (unmerged, each scenario is a group of its own: the tests
// compare both to show that merging loses no assertion).
func generate(m *model.Model, rulesFile string, merge bool) (*File, error) {
	f := &File{RuleFiles: []string{rulesFile}, EvaluationInterval: "1m", GroupEvalOrder: m.Groups()}
	done := map[*spec.SLO]bool{}
	var burns []burnGroup
	for _, a := range m.Alerts {
		switch {
		case a.Burn != nil && done[a.Burn.SLO]:
			continue
		case a.Burn != nil:
			done[a.Burn.SLO] = true
			groups, err := burnTests(a.Burn.Siblings)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			burns = append(burns, groups...)
		case a.Absent != nil:
			groups, err := absentTests(a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		case a.NoData != nil:
			groups, err := noDataTests(a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		case a.Forecast != nil:
			groups, err := forecastTests(a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		case a.Budget != nil:
			groups, err := budgetTests(a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		case a.Canary != nil:
			groups, err := canaryTests(a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		default:
			groups, err := triggerTests(m, a)
			if err != nil {
				return nil, fmt.Errorf("tests for alert %s: %w", a.Name, err)
			}
			f.Tests = append(f.Tests, groups...)
		}
	}
	if merge {
		f.Tests = append(f.Tests, mergeBurnGroups(burns)...)
	} else {
		for _, b := range burns {
			g := b.Group
			g.InputSeries = b.in.seriesList()
			f.Tests = append(f.Tests, g)
		}
	}
	for _, sig := range m.Signals {
		g, err := recordingTests(m, sig)
		if err != nil {
			return nil, fmt.Errorf("tests for the recording rules of %s: %w", sig.Name, err)
		}
		f.Tests = append(f.Tests, g)
		if g, ok, err := lazyErrorTests(m, sig); err != nil {
			return nil, fmt.Errorf("tests for the recording rules of %s without error series: %w", sig.Name, err)
		} else if ok {
			f.Tests = append(f.Tests, g)
		}
	}
	if !merge {
		return f, nil
	}
	var err error
	if f.Tests, err = mergeLong(m, f.Tests); err != nil {
		return nil, err
	}
	return f, nil
}

func minutes(n int) string {
	if n%60 == 0 && n > 0 {
		return strconv.Itoa(n/60) + "h"
	}
	return strconv.Itoa(n) + "m"
}

// expected is the alert as promtool reports it: its labels plus extra
// ones, and its annotations with the value template rendered as value.
func expected(a *model.Alert, valueTemplate, value string, extra labelSet) ExpAlert {
	l := map[string]string{}
	for k, v := range a.Labels {
		l[k] = v
	}
	for k, v := range extra {
		l[k] = v
	}
	ann := map[string]string{}
	for k, v := range a.Annotations {
		ann[k] = expand(v, valueTemplate, value, l)
	}
	return ExpAlert{ExpLabels: l, ExpAnnotations: ann}
}
