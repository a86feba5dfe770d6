package promtest

import (
	"fmt"
	"math"
	"strings"

	commonmodel "github.com/prometheus/common/model"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// noDataTests checks an SLO's SliMissing alert: it fires `for` after the
// SLI's total series disappear and while its traffic is below min_rate,
// and is silent while the series are present with traffic, and while the
// target is down (the dead-target alerts' case).
func noDataTests(a *model.Alert) ([]Group, error) {
	c := a.NoData
	sig := c.Signal
	forMin := minutesOf(a.For)
	extra := map[string]string{}
	for _, l := range sig.By {
		extra[l] = "test"
	}
	src, err := seriesFor(c.Absent.Selector, c.Absent.Selector.Name, extra)
	if err != nil {
		return nil, err
	}
	fast := 600.0
	if c.MinRate != nil {
		m, _ := c.MinRate.Float64()
		fast = math.Max(fast, math.Ceil(m*60*4))
	}
	end := presentFor + forMin + 1
	withUp := func(in *input, v float64) error {
		if c.Up == "" {
			return nil
		}
		job := c.Absent.Labels["job"]
		return in.add(labelSet{commonmodel.MetricNameLabel: "up", "job": job}, constant(v, end))
	}
	absentAlert := []ExpAlert{noDataExpected(a, c.Absent.Labels, "1")}
	fires := func(from int, exp []ExpAlert) []AlertTest {
		var tests []AlertTest
		if forMin > 0 {
			// Pending until `for` has passed.
			tests = append(tests, AlertTest{EvalTime: minutes(from + forMin - 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}})
		}
		return append(tests, AlertTest{EvalTime: minutes(from + forMin + 1), Alertname: a.Name, ExpAlerts: exp})
	}
	up := ""
	if c.Up != "" {
		up = " and " + c.Up + " 1"
	}

	gone := newInput()
	if err := gone.add(src, fmt.Sprintf("%s stale", counter(fast, presentFor-1))); err != nil {
		return nil, err
	}
	if err := withUp(gone, 1); err != nil {
		return nil, err
	}
	groups := []Group{{
		Name:     fmt.Sprintf("%s: fires %s after %s disappears", a.Name, a.For.String(), c.Absent.Source),
		Interval: "1m", InputSeries: gone.seriesList(), AlertRuleTests: fires(presentFor, absentAlert),
	}}

	present := newInput()
	if err := present.add(src, counter(fast, end)); err != nil {
		return nil, err
	}
	if err := withUp(present, 1); err != nil {
		return nil, err
	}
	groups = append(groups, Group{
		Name:     fmt.Sprintf("%s: silent while, at %s requests/min%s, %s is present", a.Name, num(fast), up, c.Absent.Source),
		Interval: "1m", InputSeries: present.seriesList(),
		AlertRuleTests: []AlertTest{{EvalTime: minutes(end), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
	})

	if c.MinRate != nil {
		m, _ := c.MinRate.Float64()
		slow := m * 60 / 2
		low := newInput()
		if err := low.add(src, counter(slow, end)); err != nil {
			return nil, err
		}
		if err := withUp(low, 1); err != nil {
			return nil, err
		}
		// The traffic record keeps the signal's by labels of the series.
		l := map[string]string{}
		for _, n := range sig.By {
			if v := src[n]; v != "" {
				l[n] = v
			}
		}
		exp := []ExpAlert{noDataExpected(a, l, fmt.Sprintf("%.3g", slow/60))}
		// The 5m rate exists from the second sample on.
		groups = append(groups, Group{
			Name:     fmt.Sprintf("%s: fires at %s requests/s, below min_rate %s, for %s", a.Name, num(slow/60), spec.FormatRat(c.MinRate), a.For.String()),
			Interval: "1m", InputSeries: low.seriesList(), AlertRuleTests: fires(1, exp),
		})
	}

	if c.Up != "" {
		down := newInput()
		if err := withUp(down, 0); err != nil {
			return nil, err
		}
		groups = append(groups, Group{
			Name:     fmt.Sprintf("%s: silent while %s is 0 (the target is down, not the SLI)", a.Name, c.Up),
			Interval: "1m", InputSeries: down.seriesList(),
			AlertRuleTests: []AlertTest{{EvalTime: minutes(forMin + 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
		})
	}
	return groups, nil
}

// noDataExpected is the SliMissing alert with the sample's labels and
// its value shown as the annotation's template prints it.
func noDataExpected(a *model.Alert, sample map[string]string, value string) ExpAlert {
	l := map[string]string{}
	for k, v := range sample {
		l[k] = v
	}
	for k, v := range a.Labels {
		l[k] = v
	}
	ann := map[string]string{}
	for k, v := range a.Annotations {
		ann[k] = strings.ReplaceAll(v, model.NoDataValueTemplate, value)
	}
	return ExpAlert{ExpLabels: l, ExpAnnotations: ann}
}
