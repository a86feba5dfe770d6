package promtest

import (
	"fmt"
	"strings"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/redline-sre/redline/rulegen/model"
)

// presentFor is how long, in minutes, the series of an absent test exist
// before they disappear: longer than the 5m lookback of an instant query,
// so only the staleness marker ends them.
const presentFor = 20

// absentTests checks an alert on missing series: it fires once the
// selector has matched nothing for `for` — from the start, beside series
// one matched label away (a probe under another name), and after the series
// disappears — and is silent while a matching series is present.
func absentTests(a *model.Alert) ([]Group, error) {
	c := a.Absent
	sel := c.Selector
	forMin := minutesOf(a.For)
	l, err := seriesFor(sel, sel.Name, nil)
	if err != nil {
		return nil, err
	}
	exp := []ExpAlert{expectedAbsent(a)}
	fires := func(from int) []AlertTest {
		var tests []AlertTest
		if from+forMin-1 >= 0 {
			// Pending (or not yet absent) until `for` has passed.
			tests = append(tests, AlertTest{EvalTime: minutes(from + forMin - 1), Alertname: a.Name, ExpAlerts: []ExpAlert{}})
		}
		return append(tests, AlertTest{EvalTime: minutes(from + forMin + 1), Alertname: a.Name, ExpAlerts: exp})
	}
	end := presentFor + forMin + 1

	never := newInput()
	name := fmt.Sprintf("%s: fires when %s has no series for %s", a.Name, c.Source, a.For.String())
	// The same metric with any one matched label changed does not count:
	// each matcher is shown to matter.
	var near []string
	for _, m := range sel.LabelMatchers {
		if m.Name == commonmodel.MetricNameLabel {
			continue
		}
		if r, ok := renamed(l, m, sel.LabelMatchers); ok && never.series[r.String()] == "" {
			if err := never.add(r, counter(1, end)); err != nil {
				return nil, err
			}
			near = append(near, r.String())
		}
	}
	if len(near) > 0 {
		name += ", beside " + strings.Join(near, " and ")
	}
	groups := []Group{{Name: name, Interval: "1m", InputSeries: never.seriesList(), AlertRuleTests: fires(0)}}

	gone := newInput()
	if err := gone.add(l, fmt.Sprintf("%s stale", counter(1, presentFor-1))); err != nil {
		return nil, err
	}
	groups = append(groups, Group{
		Name:     fmt.Sprintf("%s: fires %s after %s disappears", a.Name, a.For.String(), c.Source),
		Interval: "1m", InputSeries: gone.seriesList(), AlertRuleTests: fires(presentFor),
	})

	present := newInput()
	if err := present.add(l, counter(1, end)); err != nil {
		return nil, err
	}
	groups = append(groups, Group{
		Name:     fmt.Sprintf("%s: silent while %s is present", a.Name, c.Source),
		Interval: "1m", InputSeries: present.seriesList(),
		AlertRuleTests: []AlertTest{{EvalTime: minutes(end), Alertname: a.Name, ExpAlerts: []ExpAlert{}}},
	})
	return groups, nil
}

// renamed changes the value of the label m selects so that the series no
// longer matches: the same metric under another name (probe="x" where
// probe="platform" is selected).
func renamed(l labelSet, m *labels.Matcher, ms []*labels.Matcher) (labelSet, bool) {
	for _, c := range fallbacks[1:] {
		t := l.clone()
		t[m.Name] = c
		if !t.matches(ms) {
			return t, true
		}
	}
	return nil, false
}

// expectedAbsent is the alert of absent(): the labels of its sample, then
// the rule's labels, which win over them.
func expectedAbsent(a *model.Alert) ExpAlert {
	l := map[string]string{}
	for k, v := range a.Absent.Labels {
		l[k] = v
	}
	for k, v := range a.Labels {
		l[k] = v
	}
	ann := map[string]string{}
	for k, v := range a.Annotations {
		ann[k] = v
	}
	return ExpAlert{ExpLabels: l, ExpAnnotations: ann}
}
