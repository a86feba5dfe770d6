// Package model turns a validated spec into the rules every output is
// written from: recording rules, alerts and, per signal, how its value is
// computed. Writers read a Model; they never interpret the spec themselves.
package model

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/spec"
)

// Model is everything the writers need.
type Model struct {
	// Source names the spec in generated headers: a file's base name or
	// the built-in spec's name.
	Source  string
	Service string
	// Labels are the spec's labels, on every alert.
	Labels     map[string]string
	Signals    []*Signal
	Recordings []Recording
	Alerts     []*Alert
	// Inhibitions are the spec's inhibited_by pairs, in spec order.
	Inhibitions []Inhibition
	// Budgets are the SLOs' error budgets, in spec order.
	Budgets []*Budget
	// Freeze is the route of release-freeze alerts, nil when no SLO
	// freezes.
	Freeze *FreezeRoute
	// SLOs are the spec's SLOs, defaults applied.
	SLOs []*spec.SLO
	// Canary is the spec's canary: section, nil without one.
	Canary *spec.Canary
	// Alertmanager is the route's receivers and timings.
	Alertmanager spec.Alertmanager
	// Dashboard is the spec's dashboard: section, nil without one.
	Dashboard *spec.Dashboard
	// Preflight is the spec's preflight: section, the checks `rulegen
	// preflight` runs besides those it derives.
	Preflight []spec.PreflightCheck
	// Checks are the canary analysis measurements (analysis.go).
	Checks []*Check
	// Judge is what `rulegen judge` compares between the tracks
	// (judge.go), nil without a canary.
	Judge *Judge
	// Outputs and Ladder carry the spec's outputs: section and stage
	// ladder to their writers (outputs.go).
	Outputs *spec.Outputs
	Ladder  *Ladder

	// Warnings are what the spec does that is valid but probably not
	// meant; rulegen generate and check print them.
	Warnings []*spec.Error

	// trackSelectors are the expressions of the canary's selectors: the
	// series its pods report (analysis.go).
	trackSelectors []string
	// baselineFallback are the recordings a canary check reads from the
	// baseline track when the canary's own series have none (expand.go).
	baselineFallback map[string]bool
}

// Inhibition is one "cause explains effect" pair: Alertmanager holds the
// effect back while the cause fires with the same Equal labels.
type Inhibition struct {
	Cause, Effect string
	// Equal is service plus the labels both alerts keep from their series
	// (a pool's target, a pod's instance), sorted: a cause about one thing
	// must not hide an effect about another. Labels one side lacks are left
	// out, since Alertmanager would compare a value with nothing and never
	// match: an absent() alert has no instance.
	Equal []string
}

// Recording is one recording rule.
type Recording struct {
	Record string
	Expr   string
	// SLO puts the rule in the SLO group (Model.SLOGroup), which reads
	// only recordings of the recording group: vmalert (and Prometheus
	// across groups) reads every input back from storage, so a rule that
	// read another rule of its own group would see that rule's previous
	// evaluation, or nothing on the first one.
	SLO bool
}

// Signal is a spec signal with the names of its recorded series.
type Signal struct {
	*spec.Signal
	// Value is the expression of the signal's value in its unit (what is
	// compared with the threshold and what a dashboard plots).
	Value string
	// Traffic is the recorded denominator rate used by the low-traffic guard.
	Traffic string
	// Good is the recorded rate of requests within the latency threshold
	// bucket (latency signals with bucket: true).
	Good string
	// Baseline is the recorded baseline rate (baseline signals).
	Baseline string
	// Scale converts the recorded per-second value into the signal's unit.
	Scale int
	// Selectors parsed from the spec, for test synthesis.
	Errors, Total, Histogram, Metric, Counter *parser.VectorSelector
}

// Condition is one signal beyond its threshold, part of an alert.
type Condition struct {
	Signal    *Signal
	Threshold spec.Quantity
	Expr      string
	// FirstIncrement says Expr also fires on a counter that appears above 0.
	FirstIncrement bool
}

// Alert is one alerting rule.
type Alert struct {
	Name        string
	Expr        string
	For         spec.Duration
	Labels      map[string]string
	Annotations map[string]string
	// Conditions are the signal conditions a trigger alert is made of.
	Conditions []Condition
	// Burn is set on SLO burn-rate alerts.
	Burn *Burn
	// Canary is set on canary-versus-baseline alerts.
	Canary *CanaryCheck
	// Absent is set on alerts that fire when a signal's series are missing.
	Absent *AbsentCheck
	// NoData is set on an SLO's SliMissing alert (nodata.go).
	NoData *NoDataCheck
	// Budget is set on an SLO's release-freeze alert.
	Budget *Budget
	// Forecast is set on alerts that fire on a signal's trend (forecast.go).
	Forecast *ForecastCheck
	// SeriesLabels are the labels the alert's samples keep from the series
	// (a signal's by labels, absent()'s equality matchers), sorted.
	SeriesLabels []string
}

// AbsentCheck describes an alert on missing series for test synthesis.
type AbsentCheck struct {
	// Source is what the signal reads, as the rule prints it; the alert
	// fires while it matches no series. Selector is it parsed.
	Source   string
	Selector *parser.VectorSelector
	// Labels are the labels absent() gives its sample.
	Labels map[string]string
}

// CanaryCheck describes a canary alert for test synthesis.
type CanaryCheck struct {
	Signal *Signal
	// Tracks is the spec's canary: section: the label, its two values
	// and the factor.
	Tracks *spec.Canary
	// Value and Traffic are the recorded per-track value and denominator.
	Value, Traffic string
}

// Burn describes a burn-rate alert for test synthesis.
type Burn struct {
	SLO       *spec.SLO
	Signal    *Signal
	Window    spec.BurnWindow
	Threshold *big.Rat // factor × error budget, as an error ratio
	// MinRate is the low-traffic guard in requests per second over the
	// long window, nil when there is none.
	MinRate *big.Rat
	// Siblings are the thresholds of every window of the same SLO alert, so
	// a test can predict which of them fire together.
	Siblings []*Alert
}

// Build derives the model from a validated spec; source names the spec in
// the generated headers.
func Build(s *spec.Spec, source string) (*Model, error) {
	m := &Model{
		Source: source, Service: s.Service, Labels: s.Labels,
		Canary: s.Canary, Alertmanager: s.Alertmanager, Dashboard: s.Dashboard,
		Preflight: s.Preflight,
	}
	for i := range s.SLOs {
		m.SLOs = append(m.SLOs, &s.SLOs[i])
	}
	for i := range s.Signals {
		sig, err := m.addSignal(&s.Signals[i])
		if err != nil {
			return nil, fmt.Errorf("signal %s: %w", s.Signals[i].Name, err)
		}
		m.Signals = append(m.Signals, sig)
	}
	for i := range s.Triggers {
		if err := m.addTrigger(&s.Triggers[i]); err != nil {
			return nil, err
		}
	}
	for i := range s.Triggers {
		m.addInhibitions(&s.Triggers[i])
	}
	for i := range s.SLOs {
		m.addSLO(&s.SLOs[i])
		if err := m.addSLIMissing(&s.SLOs[i], m.SignalByName(s.SLOs[i].Signal)); err != nil {
			return nil, err
		}
	}
	if s.Canary != nil {
		for _, name := range s.Canary.Selectors {
			m.trackSelectors = append(m.trackSelectors, s.Selectors[name])
		}
		for _, sig := range m.Signals {
			if m.TracksCompared(sig) {
				m.addCanary(sig, s.Canary)
			}
		}
		m.canaryTrafficWarnings(s)
		if err := m.addJudge(s); err != nil {
			return nil, err
		}
	}
	if err := m.addOutputs(s); err != nil {
		return nil, err
	}
	return m, nil
}

// RecordingGroup names the group of recordings computed from scraped
// series.
func (m *Model) RecordingGroup() string { return m.Service + ".recording" }

// SLOGroup names the group of the SLOs' window ratios and budgets: each
// of its rules reads scraped series or recordings of the recording group,
// never another rule of its own group.
func (m *Model) SLOGroup() string { return m.Service + ".slo" }

// AlertGroup names the rule file's group of alerts.
func (m *Model) AlertGroup() string { return m.Service + ".alerts" }

// Groups lists the rule file's groups in evaluation order: the recordings,
// the SLO recordings when there are any, then the alerts when there are
// any. The rule file and its tests (which fix promtool's evaluation order)
// both follow it.
func (m *Model) Groups() []string {
	groups := []string{m.RecordingGroup()}
	if m.hasSLORecordings() {
		groups = append(groups, m.SLOGroup())
	}
	if len(m.Alerts) > 0 {
		groups = append(groups, m.AlertGroup())
	}
	return groups
}

func (m *Model) hasSLORecordings() bool {
	for _, r := range m.Recordings {
		if r.SLO {
			return true
		}
	}
	return false
}

// GroupRecordings are the recordings of one of Groups, in order.
func (m *Model) GroupRecordings(group string) []Recording {
	var out []Recording
	for _, r := range m.Recordings {
		if (group == m.SLOGroup()) == r.SLO && (group == m.SLOGroup() || group == m.RecordingGroup()) {
			out = append(out, r)
		}
	}
	return out
}

// SignalByName returns the named signal, or nil.
func (m *Model) SignalByName(name string) *Signal {
	for _, s := range m.Signals {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func (m *Model) record(name, expr string) string {
	m.Recordings = append(m.Recordings, Recording{Record: name, Expr: expr})
	return name
}

// recordSLO adds a recording to the SLO group.
func (m *Model) recordSLO(name, expr string) string {
	m.Recordings = append(m.Recordings, Recording{Record: name, Expr: expr, SLO: true})
	return name
}

func parseSelector(s string) (*parser.VectorSelector, error) {
	if s == "" {
		return nil, nil
	}
	e, err := spec.Parser.ParseExpr(s)
	if err != nil {
		return nil, err
	}
	vs, ok := e.(*parser.VectorSelector)
	if !ok {
		return nil, fmt.Errorf("%q is not a series selector", s)
	}
	return vs, nil
}

// Selector prints a selector for another metric name with the same label
// matchers plus extra ones (histogram _bucket/_count/_sum series).
func Selector(vs *parser.VectorSelector, name string, extra ...*labels.Matcher) string {
	var ms []string
	for _, lm := range vs.LabelMatchers {
		if lm.Name == commonmodel.MetricNameLabel {
			continue
		}
		ms = append(ms, lm.String())
	}
	for _, lm := range extra {
		ms = append(ms, lm.String())
	}
	if len(ms) == 0 {
		return name
	}
	return name + "{" + strings.Join(ms, ", ") + "}"
}

// LeMatcher selects a histogram bucket by its upper bound on Prometheus 2
// and 3 alike: Prometheus 3 normalises le to float formatting ("1.0"),
// Prometheus 2 keeps what the client wrote ("1"), and some clients write
// trailing zeros ("0.20"). [.] avoids backslashes in YAML and PromQL.
func LeMatcher(seconds string) *labels.Matcher {
	pat := strings.ReplaceAll(seconds, ".", "[.]")
	if strings.Contains(seconds, ".") {
		pat += "0*"
	} else {
		pat += "([.]0+)?"
	}
	return labels.MustNewMatcher(labels.MatchRegexp, "le", pat)
}

// agg applies an aggregation, keeping the by labels.
func agg(fn string, by []string, inner string) string {
	if len(by) == 0 {
		return fn + "(" + inner + ")"
	}
	return fn + " by (" + strings.Join(by, ", ") + ") (" + inner + ")"
}

// guarded keeps only the series of a per-series expression for which the
// signal's guard holds, before they are aggregated.
func guarded(expr string, g *spec.Guard) string {
	if g == nil {
		return expr
	}
	return fmt.Sprintf("%s and on(%s) (%s)", expr, strings.Join(g.On, ", "), g.Expr)
}

// aggregationLevel is the first part of a recording rule's name: the labels
// its series keep, or service when it keeps none.
func aggregationLevel(labels []string) string {
	if len(labels) == 0 {
		return "service"
	}
	return strings.Join(labels, "_")
}

// QuantileName spells a quantile for a rule name: 0.95 → p95, 0.999 → p99_9.
func QuantileName(q spec.Quantity) string {
	s := spec.FormatRat(new(big.Rat).Mul(q.Rat(), big.NewRat(100, 1)))
	return "p" + strings.ReplaceAll(s, ".", "_")
}

var perScale = map[string]int{"": 1, "second": 1, "minute": 60, "hour": 3600}

func (m *Model) addSignal(s *spec.Signal) (*Signal, error) {
	sig := &Signal{Signal: s, Scale: 1}
	var err error
	for _, p := range []struct {
		dst **parser.VectorSelector
		src string
	}{{&sig.Errors, s.Errors}, {&sig.Total, s.Total}, {&sig.Histogram, s.Histogram}, {&sig.Metric, s.Metric}, {&sig.Counter, s.Counter}} {
		if *p.dst, err = parseSelector(p.src); err != nil {
			return nil, err
		}
	}
	sig.kind().record(m, sig)
	if sig.Scale != 1 {
		sig.Value = fmt.Sprintf("%s * %d", sig.Value, sig.Scale)
	}
	return sig, nil
}

// violation is the comparison that means "unhealthy" for a healthy op.
var violation = map[string]string{"<=": ">", "<": ">=", ">=": "<", ">": "<="}

// Violation returns the comparison operator of an unhealthy value.
func (s *Signal) Violation() string { return violation[s.Op] }

func (m *Model) baseLabels(severity, action, signal string) map[string]string {
	l := map[string]string{}
	for k, v := range m.Labels {
		l[k] = v
	}
	l["service"] = m.Service
	l["severity"] = severity
	l["action"] = action
	l["signal"] = signal
	if action == spec.ActionRollback {
		l["rollback"] = "true"
	}
	return l
}

func (m *Model) addTrigger(t *spec.Trigger) error {
	if t.Absent {
		return m.addAbsent(t)
	}
	if t.Forecast != nil {
		return m.addForecast(t)
	}
	parts := t.All
	if t.Signal != "" {
		parts = []spec.TriggerPart{{Signal: t.Signal, Threshold: t.Threshold}}
	}
	a := &Alert{Name: t.Name, For: t.For}
	var names, exprs, shows []string
	var on []string
	for i, p := range parts {
		sig := m.SignalByName(p.Signal)
		thr := sig.Threshold
		if p.Threshold != nil {
			thr = p.Threshold
		}
		var q spec.Quantity
		if thr != nil {
			q = *thr
		}
		c := Condition{Signal: sig, Threshold: q, Expr: sig.condition(q), FirstIncrement: sig.catchesFirstIncrement(q)}
		a.Conditions = append(a.Conditions, c)
		names = append(names, sig.Name)
		exprs = append(exprs, c.Expr)
		shows = append(shows, describeCondition(sig, q))
		if i == 0 {
			on = sig.By
		} else if strings.Join(on, ",") != strings.Join(sig.By, ",") {
			on = nil
		}
	}
	if len(exprs) == 1 {
		a.Expr = exprs[0]
	} else {
		// Signals of a correlation may carry different labels; join them on
		// the labels they share (none unless all group by the same ones).
		for i := range exprs {
			exprs[i] = "(" + exprs[i] + ")"
		}
		a.Expr = strings.Join(exprs, "\nand on("+strings.Join(on, ", ")+")\n")
	}
	a.SeriesLabels = sortedCopy(on)
	a.Labels = m.baseLabels(t.Severity, t.Action, strings.Join(names, ","))
	for k, v := range t.Labels {
		a.Labels[k] = v
	}
	first := a.Conditions[0].Signal
	summary := fmt.Sprintf("%s: %s is %s", t.Name, first.Subject(), first.ValueTemplate())
	if len(shows) > 1 {
		summary += fmt.Sprintf(" (%s, together with %s)", shows[0], strings.Join(shows[1:], " and "))
	} else {
		summary += fmt.Sprintf(" (%s)", shows[0])
	}
	desc := strings.TrimSpace(t.Description)
	if desc == "" {
		desc = strings.TrimSpace(first.Description)
	}
	desc = strings.TrimSuffix(desc, ".")
	if desc != "" {
		desc += ". "
	}
	desc += fmt.Sprintf("%s is %s; the trigger fires when %s for %s.", first.Subject(), first.ValueTemplate(), strings.Join(shows, " and "), t.For.String())
	a.Annotations = map[string]string{"summary": summary, "description": desc}
	m.Alerts = append(m.Alerts, a)
	return nil
}

// absentLabels are the labels PromQL's absent() puts on its sample: the
// first equality matcher of each label name sets it, any other matcher on
// that name removes it (as Prometheus's own createLabelsForAbsentFunction).
func absentLabels(vs *parser.VectorSelector) map[string]string {
	out := map[string]string{}
	has := map[string]bool{}
	for _, lm := range vs.LabelMatchers {
		switch {
		case lm.Name == commonmodel.MetricNameLabel:
		case lm.Type == labels.MatchEqual && !has[lm.Name]:
			has[lm.Name] = true
			if lm.Value != "" {
				out[lm.Name] = lm.Value
			}
		default:
			delete(out, lm.Name)
		}
	}
	return out
}

// addAbsent adds an alert that fires while a signal's source series are
// missing: every threshold on a signal without series is silent, which
// reads as healthy.
func (m *Model) addAbsent(t *spec.Trigger) error {
	sig := m.SignalByName(t.Signal)
	src := sig.Source()
	vs, err := parseSelector(src)
	if err != nil {
		return fmt.Errorf("trigger %s: %w", t.Name, err)
	}
	a := &Alert{
		Name: t.Name, Expr: "absent(" + src + ")", For: t.For,
		Absent: &AbsentCheck{Source: src, Selector: vs, Labels: absentLabels(vs)},
	}
	for l := range a.Absent.Labels {
		a.SeriesLabels = append(a.SeriesLabels, l)
	}
	sort.Strings(a.SeriesLabels)
	a.Labels = m.baseLabels(t.Severity, t.Action, sig.Name)
	for k, v := range t.Labels {
		a.Labels[k] = v
	}
	desc := strings.TrimSuffix(strings.TrimSpace(t.Description), ".")
	if desc != "" {
		desc += ". "
	}
	desc += fmt.Sprintf("No series matches %s, which signal %s reads; the trigger fires when none has matched for %s. Without data every trigger on %s is silent, which is not healthy.",
		src, sig.Name, t.For.String(), sig.Name)
	a.Annotations = map[string]string{
		"summary":     fmt.Sprintf("%s: %s has no series (signal %s has no data)", t.Name, src, sig.Name),
		"description": desc,
	}
	m.Alerts = append(m.Alerts, a)
	return nil
}

// AlertByName returns the named alert, or nil.
func (m *Model) AlertByName(name string) *Alert {
	for _, a := range m.Alerts {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// addInhibitions records a trigger's inhibited_by pairs. The spec has
// checked the names, so both alerts exist.
func (m *Model) addInhibitions(t *spec.Trigger) {
	effect := m.AlertByName(t.Name)
	for _, name := range t.InhibitedBy {
		cause := m.AlertByName(name)
		equal := []string{"service"}
		for _, l := range cause.SeriesLabels {
			if l != "service" && slices.Contains(effect.SeriesLabels, l) {
				equal = append(equal, l)
			}
		}
		sort.Strings(equal)
		m.Inhibitions = append(m.Inhibitions, Inhibition{Cause: name, Effect: t.Name, Equal: equal})
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

// SLOWindowRecord names the recorded error ratio of an SLO over a window.
func SLOWindowRecord(o *spec.SLO, w string) string {
	return "service:" + o.Name + ":error_ratio_rate" + w
}

func (m *Model) addSLO(o *spec.SLO) {
	sig := m.SignalByName(o.Signal)
	budget := new(big.Rat).Sub(big.NewRat(1, 1), o.Objective.Rat())
	var windows []spec.Duration
	seen := map[string]bool{}
	for _, w := range o.Windows {
		for _, d := range []spec.Duration{w.Short, w.Long} {
			if !seen[d.String()] {
				seen[d.String()] = true
				windows = append(windows, d)
			}
		}
	}
	sort.SliceStable(windows, func(i, j int) bool { return windows[i].Duration < windows[j].Duration })
	for _, d := range windows {
		m.recordSLO(SLOWindowRecord(o, d.String()), errorRatioExpr(sig, d))
	}
	var siblings []*Alert
	for _, w := range o.Windows {
		thr := new(big.Rat).Mul(w.Factor.Rat(), budget)
		long, short := SLOWindowRecord(o, w.Long.String()), SLOWindowRecord(o, w.Short.String())
		t := spec.FormatRat(thr)
		a := &Alert{
			Name: o.Alert,
			Expr: fmt.Sprintf("%s > %s\nand\n%s > %s", long, t, short, t),
			For:  w.For,
			Burn: &Burn{SLO: o, Signal: sig, Window: w, Threshold: thr},
		}
		traffic := ""
		if o.MinRate != nil && o.MinRate.Rat().Sign() > 0 {
			// The long window's mean request rate, from the same recorded
			// 5m denominators its error ratio sums: a few requests at night
			// neither page nor spend the budget.
			a.Expr += fmt.Sprintf("\nand\navg_over_time(%s[%s]) >= %s", sig.Traffic, w.Long.String(), o.MinRate.String())
			a.Burn.MinRate = o.MinRate.Rat()
			traffic = fmt.Sprintf(" with at least %s requests/s over %s", o.MinRate.String(), w.Long.String())
		}
		a.Labels = m.baseLabels(w.Severity, w.Action, sig.Name)
		a.Labels["slo"] = o.Name
		a.Labels["long_window"] = w.Long.String()
		a.Labels["short_window"] = w.Short.String()
		pct := func(r *big.Rat) string { return spec.FormatRat(new(big.Rat).Mul(r, big.NewRat(100, 1))) + "%" }
		a.Annotations = map[string]string{
			"summary": fmt.Sprintf("%s: SLO %s (%s over %s) burns its error budget %s× too fast", o.Alert, o.Name, pct(o.Objective.Rat()), o.Period.String(), w.Factor.String()),
			"description": fmt.Sprintf("The error ratio of %s over %s is {{ $value | humanizePercentage }}; the alert fires when both the %s and %s error ratios exceed %s (%s × the %s error budget)%s for %s.",
				sig.Name, w.Long.String(), w.Long.String(), w.Short.String(), pct(thr), w.Factor.String(), pct(budget), traffic, w.For.String()),
		}
		m.Alerts = append(m.Alerts, a)
		siblings = append(siblings, a)
	}
	for _, a := range siblings {
		a.Burn.Siblings = siblings
	}
	m.addBudget(o, sig)
}

// addCanary records the signal per track and alerts when the canary is
// worse than both the threshold and factor × the baseline track, with
// traffic on both tracks (no traffic proves nothing either way).
func (m *Model) addCanary(sig *Signal, c *spec.Canary) {
	value, traffic := sig.kind().recordTracks(m, sig, c)
	canary := fmt.Sprintf("{%s=%q}", c.Label, c.Canary)
	base := fmt.Sprintf("{%s=%q}", c.Label, c.Baseline)
	guard := "0"
	cmp := ">"
	if sig.MinRate != nil {
		guard, cmp = sig.MinRate.String(), ">="
	}
	expr := strings.Join([]string{
		fmt.Sprintf("%s%s > ignoring(%s) group_left() (%s * %s%s)", value, canary, c.Label, c.Factor.String(), value, base),
		fmt.Sprintf("and %s%s %s %s", value, canary, sig.Violation(), sig.Threshold.String()),
		fmt.Sprintf("and %s%s %s %s", traffic, canary, cmp, guard),
		fmt.Sprintf("and on() %s%s %s %s", traffic, base, cmp, guard),
	}, "\n")
	a := &Alert{
		Name: spec.CanaryAlertName(sig.Name), Expr: expr, For: c.For,
		Canary: &CanaryCheck{Signal: sig, Tracks: c, Value: value, Traffic: traffic},
	}
	a.Labels = m.baseLabels("critical", spec.ActionRollback, sig.Name)
	a.Labels["canary"] = "true"
	thr := sig.ThresholdText(*sig.Threshold)
	a.Annotations = map[string]string{
		"summary": fmt.Sprintf("%s: the canary's %s is %s, worse than %s and %s× the %s track", a.Name, sig.Name, sig.ValueTemplate(), thr, c.Factor.String(), c.Baseline),
		"description": fmt.Sprintf("On %s=%q, %s is %s; the canary is rolled back when it exceeds both %s and %s times the value on %s=%q, with traffic on both tracks, for %s.",
			c.Label, c.Canary, sig.Name, sig.ValueTemplate(), thr, c.Factor.String(), c.Label, c.Baseline, c.For.String()),
	}
	m.Alerts = append(m.Alerts, a)
}
