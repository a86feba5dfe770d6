package spec

import (
	"fmt"
	"math/big"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/grafana/variables"
)

// LoadFile reads and validates a spec file.
func LoadFile(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data)
}

// Load decodes and validates a spec. The error, when not nil, is an
// ErrorList naming every problem with file:line:column.
func Load(file string, data []byte) (*Spec, error) {
	s := &Spec{}
	pos, errs := decodeDocument(file, data, s)
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	s.File, s.pos = file, pos
	v := &validator{s: s}
	v.run()
	if len(v.errs) > 0 {
		return nil, v.errs.sorted()
	}
	return s, nil
}

type validator struct {
	s    *Spec
	errs ErrorList
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.s.File, Pos: v.s.At(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

var (
	serviceRE   = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	signalRE    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	alertNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	templateRE  = regexp.MustCompile(`\$\{([^}]*)\}`)
)

// ReservedLabels are set by rulegen on its alerts (slo, long_window and
// short_window on SLO burn alerts) and matched by the generated route and
// inhibit rules; the spec cannot set them. Severity and action have keys of
// their own on triggers and SLO windows.
var ReservedLabels = []string{"action", "alertname", "canary", "freeze", "long_window", "rollback", "service", "severity", "short_window", "signal", "slo"}

// IdentityLabels name the one thing an alert is about (pod, pool, table,
// sequence). They come from the series, and the generated inhibit rules
// compare them so that an alert only silences another about the same thing.
var IdentityLabels = []string{"instance", "target", "database", "user", "datname", "schemaname", "relname", "sequence", "table", "column"}

var (
	severities = []string{"critical", "warning", "info"}
	actions    = []string{ActionRollback, ActionPage, ActionTicket}
	ops        = []string{"<=", "<", ">=", ">"}
	units      = []string{"none", "seconds", "ratio", "bytes", "per_second", "per_minute", "per_hour"}
	pers       = []string{"second", "minute", "hour"}
	functions  = []string{"max", "min", "avg", "sum", "max_abs", "rate", "deriv", "mean"}
)

func oneOf(s string, allowed []string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

func (v *validator) run() {
	s := v.s
	if s.Version != Version {
		if s.Version == "" {
			v.errorf("version", "missing key %q (want %q)", "version", Version)
		} else {
			v.errorf("version", "unsupported version %q (want %q)", s.Version, Version)
		}
	}
	if !serviceRE.MatchString(s.Service) {
		if s.Service == "" {
			v.errorf("service", "missing key %q", "service")
		} else {
			v.errorf("service", "invalid service name %q (lower case letters, digits, - and _)", s.Service)
		}
	}
	var all []*Signal
	for i := range s.Signals {
		all = append(all, &s.Signals[i])
	}
	v.labels("labels", s.Labels, all)
	for _, k := range sortedKeys(s.Selectors) {
		if templateRE.MatchString(s.Selectors[k]) {
			v.errorf("selectors."+k, "selectors cannot reference other selectors")
		}
	}
	if len(s.Signals) == 0 {
		v.errorf("signals", "at least one signal is required")
	}
	names := map[string]bool{}
	for i := range s.Signals {
		path := "signals[" + strconv.Itoa(i) + "]"
		sig := &s.Signals[i]
		if names[sig.Name] {
			v.errorf(path+".name", "duplicate signal name %q", sig.Name)
		}
		names[sig.Name] = true
		v.signal(path, sig)
	}
	alerts := map[string]string{}
	for i := range s.Triggers {
		path := "triggers[" + strconv.Itoa(i) + "]"
		t := &s.Triggers[i]
		v.trigger(path, t)
		if prev, dup := alerts[t.Name]; dup && t.Name != "" {
			v.errorf(path+".name", "duplicate alert name %q (also %s)", t.Name, prev)
		}
		alerts[t.Name] = path
	}
	v.inhibitions()
	sloNames := map[string]bool{}
	for i := range s.SLOs {
		path := "slos[" + strconv.Itoa(i) + "]"
		o := &s.SLOs[i]
		if sloNames[o.Name] {
			v.errorf(path+".name", "duplicate SLO name %q", o.Name)
		}
		sloNames[o.Name] = true
		v.slo(path, o)
		if prev, dup := alerts[o.Alert]; dup && o.Alert != "" {
			v.errorf(path+".alert", "duplicate alert name %q (also %s)", o.Alert, prev)
		}
		alerts[o.Alert] = path
		if o.Freezes() {
			if prev, dup := alerts[o.FreezeAlert()]; dup {
				v.errorf(path+".freeze_below", "alert name %q of the release freeze is taken (by %s)", o.FreezeAlert(), prev)
			}
			alerts[o.FreezeAlert()] = path
		}
	}
	if s.Canary != nil {
		v.canary(s.Canary)
		for _, sig := range s.Signals {
			if sig.Kind != KindRatio && sig.Kind != KindLatency {
				continue
			}
			if prev, dup := alerts[camel(sig.Name)+"CanaryWorse"]; dup {
				v.errorf(prev+".name", "alert name %q is taken by the canary alert of signal %q", camel(sig.Name)+"CanaryWorse", sig.Name)
			}
		}
	}
	v.alertmanager(&s.Alertmanager)
	if s.Dashboard != nil {
		v.dashboard(s.Dashboard)
	}
}

// plain rejects template delimiters in text that Prometheus expands as a
// template (alert labels and annotations): a stray {{ would break the
// rule file rather than print.
func (v *validator) plain(path, text string) {
	if strings.Contains(text, "{{") || strings.Contains(text, "}}") {
		v.errorf(path, "must be plain text: {{ and }} are template delimiters in Prometheus alerts")
	}
}

// labels checks fixed labels added to alerts whose series come from
// signals. A fixed value would replace a label that rulegen sets or that the
// series carry, and the route, the inhibit rules or the alert's identity
// would silently change: an slo label on every alert, for one, turns off
// the inhibit rule that targets slo="".
func (v *validator) labels(path string, m map[string]string, signals []*Signal) {
	for _, k := range sortedKeys(m) {
		p := path + "." + k
		v.plain(p, m[k])
		switch {
		case !labelNameRE.MatchString(k):
			v.errorf(p, "invalid label name %q", k)
		case strings.HasPrefix(k, "__"):
			v.errorf(p, "label names starting with __ are reserved for Prometheus")
		case oneOf(k, ReservedLabels):
			v.errorf(p, "label %q is set by rulegen (reserved: %s)", k, strings.Join(ReservedLabels, ", "))
		case oneOf(k, IdentityLabels):
			v.errorf(p, "label %q comes from the series and tells alerts apart (the inhibit rules compare it); a fixed value would overwrite it", k)
		case v.s.Canary != nil && k == v.s.Canary.Label:
			v.errorf(p, "label %q is the canary label; canary alerts take it from the series", k)
		default:
			for _, sig := range signals {
				if oneOf(k, sig.By) {
					v.errorf(p, "label %q is kept from the series by signal %q (by); a fixed value would overwrite it", k, sig.Name)
					break
				}
			}
		}
	}
}

// kindKeys lists the keys each signal kind accepts besides the common ones.
var kindKeys = map[string][]string{
	KindRatio:    {"errors", "total", "threshold", "op", "min_rate"},
	KindLatency:  {"histogram", "quantile", "bucket", "guard", "threshold", "op", "min_rate"},
	KindGauge:    {"metric", "function", "by", "guard", "per", "threshold", "op"},
	KindRate:     {"counter", "per", "by", "threshold", "op"},
	KindBaseline: {"counter", "baseline_window", "baseline_offset", "tolerance", "min_rate"},
}

// setKeys returns the kind-specific keys that are set on a signal.
func setKeys(sig *Signal) map[string]bool {
	return map[string]bool{
		"errors": sig.Errors != "", "total": sig.Total != "",
		"histogram": sig.Histogram != "", "quantile": sig.Quantile != nil, "bucket": sig.Bucket,
		"metric": sig.Metric != "", "function": sig.Function != "", "by": sig.By != nil, "guard": sig.Guard != nil,
		"counter": sig.Counter != "", "per": sig.Per != "",
		"baseline_window": !sig.BaselineWindow.IsZero(), "baseline_offset": !sig.BaselineOffset.IsZero(),
		"tolerance": sig.Tolerance != nil,
		"threshold": sig.Threshold != nil, "op": sig.Op != "", "min_rate": sig.MinRate != nil,
	}
}

func (v *validator) signal(path string, sig *Signal) {
	v.plain(path+".description", sig.Description)
	if !signalRE.MatchString(sig.Name) {
		if sig.Name == "" {
			v.errorf(path, "missing key %q", "name")
		} else {
			v.errorf(path+".name", "invalid signal name %q (lower case letters, digits and _, starting with a letter)", sig.Name)
		}
	}
	allowed, ok := kindKeys[sig.Kind]
	if !ok {
		if sig.Kind == "" {
			v.errorf(path, "missing key %q", "kind")
		} else {
			v.errorf(path+".kind", "unknown kind %q (want ratio, latency, gauge, rate or baseline)", sig.Kind)
		}
		return
	}
	set := setKeys(sig)
	for _, k := range sortedKeys(set) {
		if set[k] && !oneOf(k, allowed) {
			v.errorf(path+"."+k, "key %q does not apply to a %s signal", k, sig.Kind)
		}
	}
	if sig.Window.IsZero() {
		sig.Window = MustDuration("5m")
	} else if sig.Window.Duration <= 0 {
		v.errorf(path+".window", "window must be positive")
	} else {
		v.atMost(path+".window", sig.Window, "1d")
	}
	if sig.Op == "" {
		sig.Op = "<="
	} else if !oneOf(sig.Op, ops) {
		v.errorf(path+".op", "unknown op %q (want <=, <, >= or >)", sig.Op)
	}
	if sig.MinRate != nil && sig.MinRate.Rat().Sign() < 0 {
		v.errorf(path+".min_rate", "min_rate must not be negative")
	}
	switch sig.Kind {
	case KindRatio:
		v.upperOp(path, sig)
		v.selector(path+".errors", &sig.Errors, true)
		v.selector(path+".total", &sig.Total, true)
		v.threshold(path, sig, func(q Quantity) string { return ratioProblem(q) })
		v.defaultUnit(path, sig, "ratio")
	case KindLatency:
		v.upperOp(path, sig)
		v.selector(path+".histogram", &sig.Histogram, true)
		if sig.Quantile == nil {
			v.errorf(path, "missing key %q", "quantile")
		} else if r := sig.Quantile.Rat(); r.Sign() <= 0 || r.Cmp(big.NewRat(1, 1)) >= 0 {
			v.errorf(path+".quantile", "quantile must be between 0 and 1 (exclusive), got %s", sig.Quantile.Text)
		}
		v.threshold(path, sig, func(q Quantity) string {
			if q.Kind == Percent {
				return "a latency threshold is a duration such as 200ms"
			}
			if q.Rat().Sign() <= 0 {
				return "a latency threshold must be positive"
			}
			return ""
		})
		v.guard(path, sig)
		v.defaultUnit(path, sig, "seconds")
	case KindGauge:
		v.selector(path+".metric", &sig.Metric, true)
		if sig.Function == "" {
			sig.Function = "max"
		} else if !oneOf(sig.Function, functions) {
			v.errorf(path+".function", "unknown function %q (want %s)", sig.Function, strings.Join(functions, ", "))
		}
		v.per(path, sig, sig.Function == "rate" || sig.Function == "deriv", "second")
		v.by(path, sig)
		v.guard(path, sig)
		v.threshold(path, sig, nil)
		def := "none"
		if sig.Threshold != nil {
			switch sig.Threshold.Kind {
			case Seconds:
				def = "seconds"
			case Percent:
				def = "ratio"
			}
		}
		if (sig.Function == "rate" || sig.Function == "deriv") && def == "none" {
			// A slope of a ratio or of seconds keeps its unit and reads
			// "20%/h"; a plain number reads "0.8/s".
			def = "per_" + sig.Per
		}
		v.defaultUnit(path, sig, def)
	case KindRate:
		v.selector(path+".counter", &sig.Counter, true)
		v.per(path, sig, true, "minute")
		v.by(path, sig)
		v.threshold(path, sig, func(q Quantity) string {
			if q.Kind != Number || q.Rat().Sign() < 0 {
				return "a rate threshold is a non-negative number of events per " + sig.Per
			}
			return ""
		})
		v.defaultUnit(path, sig, "per_"+sig.Per)
	case KindBaseline:
		v.selector(path+".counter", &sig.Counter, true)
		if sig.BaselineWindow.IsZero() {
			v.errorf(path, "missing key %q", "baseline_window")
		} else if v.atMost(path+".baseline_window", sig.BaselineWindow, "7d") && sig.BaselineWindow.Duration <= sig.Window.Duration {
			v.errorf(path+".baseline_window", "baseline_window (%s) must be longer than window (%s)", sig.BaselineWindow.Text, sig.Window.String())
		}
		if sig.BaselineOffset.IsZero() {
			// The baseline ends where the current window starts, so the
			// change does not raise its own baseline.
			sig.BaselineOffset = Duration{Duration: sig.Window.Duration, Text: sig.Window.String()}
		} else if sig.BaselineOffset.Duration < sig.Window.Duration {
			v.errorf(path+".baseline_offset", "baseline_offset (%s) must be at least window (%s): a shorter offset overlaps the current window", sig.BaselineOffset.Text, sig.Window.String())
		} else {
			v.atMost(path+".baseline_offset", sig.BaselineOffset, "7d")
		}
		if sig.Tolerance == nil {
			v.errorf(path, "missing key %q", "tolerance")
		} else if sig.Tolerance.Kind != Percent || sig.Tolerance.Rat().Sign() < 0 {
			v.errorf(path+".tolerance", "tolerance is a non-negative percentage such as 10%%, got %s", sig.Tolerance.Text)
		}
		sig.Op = "<="
		v.defaultUnit(path, sig, "per_second")
	}
}

// atMost bounds a duration. The limits keep generated promtool tests, which
// need samples covering every window, to a size that runs in CI.
func (v *validator) atMost(path string, d Duration, limit string) bool {
	if d.Duration > MustDuration(limit).Duration {
		v.errorf(path, "%s is longer than the supported maximum of %s", d.Text, limit)
		return false
	}
	return true
}

// upperOp restricts ratios and latencies to upper bounds: an error ratio or
// a latency that must stay above a value is not a health signal.
func (v *validator) upperOp(path string, sig *Signal) {
	if sig.Op != "<=" && sig.Op != "<" {
		v.errorf(path+".op", "a %s signal is healthy below its threshold: op must be <= or <", sig.Kind)
	}
}

func (v *validator) defaultUnit(path string, sig *Signal, def string) {
	if sig.Unit == "" {
		sig.Unit = def
	} else if !oneOf(sig.Unit, units) {
		v.errorf(path+".unit", "unknown unit %q (want %s)", sig.Unit, strings.Join(units, ", "))
	}
}

func (v *validator) per(path string, sig *Signal, applies bool, def string) {
	switch {
	case sig.Per != "" && !applies:
		v.errorf(path+".per", "per applies only to rate and deriv functions")
	case sig.Per == "" && applies:
		sig.Per = def
	case sig.Per != "" && !oneOf(sig.Per, pers):
		v.errorf(path+".per", "unknown per %q (want second, minute or hour)", sig.Per)
	}
}

func (v *validator) by(path string, sig *Signal) {
	seen := map[string]bool{}
	for i, l := range sig.By {
		p := path + ".by[" + strconv.Itoa(i) + "]"
		if !labelNameRE.MatchString(l) || l == "le" {
			v.errorf(p, "invalid label name %q", l)
		} else if oneOf(l, ReservedLabels) {
			v.errorf(p, "label %q is set by rulegen", l)
		} else if seen[l] {
			v.errorf(p, "duplicate label %q", l)
		}
		seen[l] = true
	}
}

// guard checks a gauge or latency signal's guard: an instant-vector
// expression over at least one series, joined on valid labels. A mean is a
// ratio of two aggregated rates and has no per-series step to guard.
func (v *validator) guard(path string, sig *Signal) {
	g := sig.Guard
	if g == nil {
		return
	}
	path += ".guard"
	if sig.Function == "mean" {
		v.errorf(path, "guard does not apply to function mean")
		return
	}
	if len(g.On) == 0 {
		v.errorf(path, "missing key %q (the labels that join the guard to the signal's series)", "on")
	}
	seen := map[string]bool{}
	for i, l := range g.On {
		p := path + ".on[" + strconv.Itoa(i) + "]"
		if !labelNameRE.MatchString(l) || l == "le" {
			v.errorf(p, "invalid label name %q", l)
		} else if seen[l] {
			v.errorf(p, "duplicate label %q", l)
		}
		seen[l] = true
	}
	if g.Expr == "" {
		v.errorf(path, "missing key %q", "expr")
		return
	}
	s, ok := v.expand(path+".expr", g.Expr)
	if !ok {
		return
	}
	s = strings.TrimSpace(s)
	expr, err := Parser.ParseExpr(s)
	if err != nil {
		v.errorf(path+".expr", "invalid PromQL in %q: %s", s, promqlMessage(err))
		return
	}
	if expr.Type() != parser.ValueTypeVector {
		v.errorf(path+".expr", "a guard is an instant-vector expression such as time() - process_start_time_seconds > 1800, got a %s %q", expr.Type(), s)
		return
	}
	if len(parser.ExtractSelectors(expr)) == 0 {
		v.errorf(path+".expr", "a guard must select series; %q has no series selector", s)
		return
	}
	g.Expr = s
}

func (v *validator) threshold(path string, sig *Signal, check func(Quantity) string) {
	if sig.Threshold == nil {
		v.errorf(path, "missing key %q", "threshold")
		return
	}
	if check != nil {
		if msg := check(*sig.Threshold); msg != "" {
			v.errorf(path+".threshold", "%s", msg)
		}
	}
}

// ratioProblem checks a value meant as a fraction of 1.
func ratioProblem(q Quantity) string {
	r := q.Rat()
	if q.Kind == Seconds {
		return fmt.Sprintf("expected a ratio such as 1%% or 0.01, got duration %s", q.Text)
	}
	if r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		if q.Kind == Percent {
			return fmt.Sprintf("%s is out of range (0%% to 100%%)", q.Text)
		}
		return fmt.Sprintf("%s is out of range (0 to 1)", q.Text)
	}
	return ""
}

// expand substitutes ${name} references to the spec's selectors.
func (v *validator) expand(path, in string) (string, bool) {
	ok := true
	out := templateRE.ReplaceAllStringFunc(in, func(m string) string {
		name := m[2 : len(m)-1]
		val, found := v.s.Selectors[name]
		if !found {
			v.errorf(path, "unknown selector ${%s} (define it under selectors)", name)
			ok = false
		}
		return val
	})
	if ok && strings.Contains(out, "${") {
		v.errorf(path, "unterminated ${ in %q", in)
		ok = false
	}
	return out, ok
}

// Parser is the PromQL parser every fragment is checked with.
var Parser = parser.NewParser(parser.Options{})

// selector expands and parses a series selector in place.
func (v *validator) selector(path string, field *string, required bool) {
	if *field == "" {
		if required {
			i := strings.LastIndex(path, ".")
			v.errorf(path[:i], "missing key %q", path[i+1:])
		}
		return
	}
	s, ok := v.expand(path, *field)
	if !ok {
		return
	}
	expr, err := Parser.ParseExpr(s)
	if err != nil {
		v.errorf(path, "invalid PromQL in %q: %s", s, promqlMessage(err))
		return
	}
	vs, isSel := expr.(*parser.VectorSelector)
	if !isSel || vs.Name == "" || vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		v.errorf(path, "expected a series selector such as metric{job=\"x\"}, got %q", s)
		return
	}
	*field = s
}

func promqlMessage(err error) string {
	if pe, ok := err.(parser.ParseErrors); ok && len(pe) > 0 {
		return pe[0].Err.Error()
	}
	return err.Error()
}

func (v *validator) trigger(path string, t *Trigger) {
	v.plain(path+".description", t.Description)
	if !alertNameRE.MatchString(t.Name) {
		if t.Name == "" {
			v.errorf(path, "missing key %q", "name")
		} else {
			v.errorf(path+".name", "invalid alert name %q", t.Name)
		}
	}
	switch {
	case t.Signal == "" && len(t.All) == 0:
		v.errorf(path, "a trigger needs signal or all")
	case t.Signal != "" && len(t.All) > 0:
		v.errorf(path+".all", "a trigger has either signal or all, not both")
	case t.Signal != "":
		v.part(path, TriggerPart{Signal: t.Signal, Threshold: t.Threshold})
	default:
		if t.Threshold != nil {
			v.errorf(path+".threshold", "set thresholds on the parts of all")
		}
		if len(t.All) < 2 {
			v.errorf(path+".all", "all needs at least two signals")
		}
		seen := map[string]bool{}
		for i, p := range t.All {
			pp := path + ".all[" + strconv.Itoa(i) + "]"
			if seen[p.Signal] {
				v.errorf(pp+".signal", "signal %q appears twice", p.Signal)
			}
			seen[p.Signal] = true
			v.part(pp, p)
		}
	}
	if t.Absent && len(t.All) > 0 {
		v.errorf(path+".absent", "absent applies to one signal, not to all:")
	} else if t.Absent && t.Threshold != nil {
		v.errorf(path+".threshold", "an absent trigger fires on missing series; it has no threshold")
	}
	if t.For.IsZero() {
		t.For = MustDuration("5m")
	} else {
		v.atMost(path+".for", t.For, "1d")
	}
	if !oneOf(t.Action, actions) {
		if t.Action == "" {
			v.errorf(path, "missing key %q", "action")
		} else {
			v.errorf(path+".action", "unknown action %q (want rollback, page or ticket)", t.Action)
		}
	}
	if t.Severity == "" {
		t.Severity = "critical"
		if t.Action == ActionTicket {
			t.Severity = "warning"
		}
	} else if !oneOf(t.Severity, severities) {
		v.errorf(path+".severity", "unknown severity %q (want critical, warning or info)", t.Severity)
	}
	var used []*Signal
	for _, p := range append([]TriggerPart{{Signal: t.Signal}}, t.All...) {
		if sig := v.s.SignalByName(p.Signal); sig != nil {
			used = append(used, sig)
		}
	}
	v.labels(path+".labels", t.Labels, used)
}

// inhibitions checks every trigger's inhibited_by: it names other triggers
// of this spec, once each, without a cycle, and never on a rollback
// trigger. A rollback held back by another alert is a release left running
// that the spec says must be rolled back; SLO burn alerts have no
// inhibited_by, so the budget is never hidden either.
func (v *validator) inhibitions() {
	index := map[string]int{}
	for i, t := range v.s.Triggers {
		if _, dup := index[t.Name]; !dup {
			index[t.Name] = i
		}
	}
	slos := map[string]bool{}
	for _, o := range v.s.SLOs {
		slos[o.Alert] = true
		if o.Alert == "" {
			slos[camel(o.Name)+"ErrorBudgetBurn"] = true
		}
	}
	valid := make([][]inhibitEdge, len(v.s.Triggers))
	for i, t := range v.s.Triggers {
		path := "triggers[" + strconv.Itoa(i) + "].inhibited_by"
		if len(t.InhibitedBy) > 0 && t.Action == ActionRollback {
			v.errorf(path, "a rollback trigger cannot be inhibited: holding back %s would leave running a release the spec says to roll back", t.Name)
			continue
		}
		seen := map[string]bool{}
		for j, name := range t.InhibitedBy {
			p := path + "[" + strconv.Itoa(j) + "]"
			cause, ok := index[name]
			switch {
			case name == t.Name:
				v.errorf(p, "trigger %s cannot inhibit itself", name)
			case seen[name]:
				v.errorf(p, "trigger %q is listed twice", name)
			case slos[name]:
				v.errorf(p, "%q is an SLO burn alert; inhibited_by names triggers of this spec", name)
			case !ok:
				v.errorf(p, "unknown trigger %q", name)
			default:
				valid[i] = append(valid[i], inhibitEdge{cause: cause, entry: j})
			}
			seen[name] = true
		}
	}
	v.inhibitionCycles(valid)
}

// inhibitEdge is one valid inhibited_by entry: the index of the cause
// trigger and of the entry in the list.
type inhibitEdge struct{ cause, entry int }

// inhibitionCycles reports each cycle of inhibited_by once, at the entry
// that closes it: alerts that inhibit each other in a ring can all be held
// back while all fire, and nothing pages.
func (v *validator) inhibitionCycles(causes [][]inhibitEdge) {
	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]int, len(causes))
	var stack []int
	var visit func(i int)
	visit = func(i int) {
		state[i] = onPath
		stack = append(stack, i)
		for _, e := range causes[i] {
			c := e.cause
			switch state[c] {
			case unvisited:
				visit(c)
			case onPath:
				var ring []string
				for k := len(stack) - 1; k >= 0; k-- {
					ring = append([]string{v.s.Triggers[stack[k]].Name}, ring...)
					if stack[k] == c {
						break
					}
				}
				ring = append(ring, v.s.Triggers[c].Name)
				v.errorf("triggers["+strconv.Itoa(i)+"].inhibited_by["+strconv.Itoa(e.entry)+"]",
					"inhibited_by forms a cycle (%s): while all of them fire, each would hide the other and none would page", strings.Join(ring, " ← "))
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
	}
	for i := range causes {
		if state[i] == unvisited {
			visit(i)
		}
	}
}

func (v *validator) part(path string, p TriggerPart) {
	if p.Signal == "" {
		v.errorf(path, "missing key %q", "signal")
		return
	}
	sig := v.s.SignalByName(p.Signal)
	if sig == nil {
		v.errorf(path+".signal", "unknown signal %q", p.Signal)
		return
	}
	if p.Threshold == nil {
		return
	}
	switch sig.Kind {
	case KindBaseline:
		v.errorf(path+".threshold", "a baseline signal has a tolerance, not a threshold")
	case KindRatio:
		if msg := ratioProblem(*p.Threshold); msg != "" {
			v.errorf(path+".threshold", "%s", msg)
		}
	case KindLatency:
		if p.Threshold.Kind == Percent || p.Threshold.Rat().Sign() <= 0 {
			v.errorf(path+".threshold", "a latency threshold is a positive duration such as 200ms")
		} else if sig.Bucket && p.Threshold.Rat().Cmp(sig.Threshold.Rat()) != 0 {
			v.errorf(path+".threshold", "signal %q reads its threshold bucket (bucket: true); a different threshold needs another signal", sig.Name)
		}
	}
}

func (v *validator) slo(path string, o *SLO) {
	v.plain(path+".description", o.Description)
	if !signalRE.MatchString(o.Name) {
		if o.Name == "" {
			v.errorf(path, "missing key %q", "name")
		} else {
			v.errorf(path+".name", "invalid SLO name %q (lower case letters, digits and _)", o.Name)
		}
	}
	if o.Alert == "" && o.Name != "" {
		o.Alert = camel(o.Name) + "ErrorBudgetBurn"
	} else if o.Alert != "" && !alertNameRE.MatchString(o.Alert) {
		v.errorf(path+".alert", "invalid alert name %q", o.Alert)
	}
	if o.Signal == "" {
		v.errorf(path, "missing key %q", "signal")
	} else if sig := v.s.SignalByName(o.Signal); sig == nil {
		v.errorf(path+".signal", "unknown signal %q", o.Signal)
	} else if sig.Kind != KindRatio && !(sig.Kind == KindLatency && sig.Bucket) {
		v.errorf(path+".signal", "signal %q is a %s signal; an SLO needs a ratio signal or a latency signal with bucket: true", o.Signal, sig.Kind)
	}
	if o.Objective == nil {
		v.errorf(path, "missing key %q", "objective")
	} else if msg := ratioProblem(*o.Objective); msg != "" {
		v.errorf(path+".objective", "%s", msg)
	} else if r := o.Objective.Rat(); r.Sign() == 0 || r.Cmp(big.NewRat(1, 1)) == 0 {
		v.errorf(path+".objective", "objective must be above 0%% and below 100%%")
	}
	if o.Period.IsZero() {
		o.Period = MustDuration("28d")
	} else if o.Period.Duration <= 0 {
		v.errorf(path+".period", "period must be positive")
	} else {
		v.atMost(path+".period", o.Period, "365d")
	}
	if o.MinRate != nil && o.MinRate.Rat().Sign() < 0 {
		v.errorf(path+".min_rate", "min_rate must not be negative")
	} else if sig := v.s.SignalByName(o.Signal); o.MinRate == nil && sig != nil {
		o.MinRate = sig.MinRate
	}
	if o.Windows == nil {
		o.Windows = DefaultBurnWindows()
	}
	if len(o.Windows) == 0 {
		v.errorf(path+".windows", "at least one burn-rate window is required")
	}
	for i := range o.Windows {
		w := &o.Windows[i]
		wp := path + ".windows[" + strconv.Itoa(i) + "]"
		if w.Long.IsZero() || w.Short.IsZero() {
			v.errorf(wp, "a burn-rate window needs long and short")
		} else if w.Short.Duration <= 0 || w.Short.Duration >= w.Long.Duration {
			v.errorf(wp+".short", "short window (%s) must be positive and shorter than the long window (%s)", w.Short.Text, w.Long.Text)
		} else if !v.atMost(wp+".long", w.Long, "7d") {
		} else if w.Long.Duration > o.Period.Duration {
			v.errorf(wp+".long", "long window (%s) is longer than the period (%s)", w.Long.Text, o.Period.String())
		}
		if w.Factor == nil {
			v.errorf(wp, "missing key %q", "factor")
		} else if w.Factor.Kind != Number || w.Factor.Rat().Sign() <= 0 {
			v.errorf(wp+".factor", "factor must be a positive number, got %s", w.Factor.Text)
		}
		if w.Severity == "" {
			w.Severity = "critical"
		} else if !oneOf(w.Severity, severities) {
			v.errorf(wp+".severity", "unknown severity %q (want critical, warning or info)", w.Severity)
		}
		if w.Action == "" {
			w.Action = ActionPage
			if w.Severity != "critical" {
				w.Action = ActionTicket
			}
		} else if !oneOf(w.Action, actions) {
			v.errorf(wp+".action", "unknown action %q (want rollback, page or ticket)", w.Action)
		}
		if !w.For.IsZero() {
			v.atMost(wp+".for", w.For, "1d")
		}
		if w.For.IsZero() && !w.Short.IsZero() {
			// A third of the short window (at least 1m): long enough to
			// ride out one bad scrape, short against the window itself.
			f := w.Short.Duration / 3
			if f < MustDuration("1m").Duration {
				f = MustDuration("1m").Duration
			}
			w.For = Duration{Duration: f, Text: f.String()}
		}
	}
	for i := range o.Windows {
		for j := range i {
			if o.Windows[i].Long.Duration == o.Windows[j].Long.Duration && o.Windows[i].Short.Duration == o.Windows[j].Short.Duration {
				v.errorf(path+".windows["+strconv.Itoa(i)+"]", "duplicate burn-rate window %s/%s", o.Windows[i].Long.Text, o.Windows[i].Short.Text)
			}
		}
	}
	v.sloBudget(path, o)
}

// DefaultBurnWindows is the multi-window multi-burn-rate table used when an
// SLO lists none: 2% of a 28-day budget in 1h, 5% in 6h, 10% in 24h.
func DefaultBurnWindows() []BurnWindow {
	w := func(long, short, factor, severity, action, forDur string) BurnWindow {
		f, _ := ParseQuantity(factor)
		return BurnWindow{Long: MustDuration(long), Short: MustDuration(short), Factor: &f, Severity: severity, Action: action, For: MustDuration(forDur)}
	}
	return []BurnWindow{
		w("1h", "5m", "14.4", "critical", ActionPage, "2m"),
		w("6h", "30m", "6", "critical", ActionPage, "15m"),
		w("24h", "2h", "3", "warning", ActionTicket, "1h"),
	}
}

func (v *validator) canary(c *Canary) {
	if !labelNameRE.MatchString(c.Label) {
		v.errorf("canary.label", "invalid label name %q", c.Label)
	} else if oneOf(c.Label, ReservedLabels) {
		v.errorf("canary.label", "label %q is set by rulegen", c.Label)
	}
	v.plain("canary.canary", c.Canary)
	v.plain("canary.baseline", c.Baseline)
	if c.Canary == "" || c.Baseline == "" {
		v.errorf("canary", "canary needs both canary and baseline label values")
	} else if c.Canary == c.Baseline {
		v.errorf("canary.baseline", "baseline and canary are both %q", c.Canary)
	}
	if c.Factor == nil {
		c.Factor = &Quantity{Kind: Number, Text: "2", rat: big.NewRat(2, 1)}
	} else if c.Factor.Kind != Number || c.Factor.Rat().Cmp(big.NewRat(1, 1)) < 0 {
		v.errorf("canary.factor", "factor must be a number of at least 1, got %s", c.Factor.Text)
	}
	if c.For.IsZero() {
		c.For = MustDuration("5m")
	} else {
		v.atMost("canary.for", c.For, "1d")
	}
}

func (v *validator) alertmanager(a *Alertmanager) {
	if a.WebhookURL == "" {
		v.errorf("alertmanager", "missing key %q", "webhook_url")
	} else if u, err := url.Parse(a.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf("alertmanager.webhook_url", "webhook_url must be an http or https URL")
	}
	if a.Receiver == "" {
		a.Receiver = v.s.Service + "-rollback"
	}
	if a.DefaultReceiver == "" {
		a.DefaultReceiver = "default"
	}
	if a.Receiver == a.DefaultReceiver {
		v.errorf("alertmanager.receiver", "receiver and default_receiver must differ")
	}
	def := func(d *Duration, s string) {
		if d.IsZero() {
			*d = MustDuration(s)
		}
	}
	def(&a.GroupWait, "10s")
	def(&a.GroupInterval, "1m")
	def(&a.RepeatInterval, "1h")
	v.freezeRoute(a)
}

func (v *validator) dashboard(d *Dashboard) {
	if d.Title == "" {
		v.errorf("dashboard", "missing key %q", "title")
	}
	if d.UID == "" {
		d.UID = v.s.Service
	}
	if len(d.Panels) == 0 {
		v.errorf("dashboard", "missing key %q", "panels")
	}
	for i := range d.Panels {
		p := &d.Panels[i]
		path := "dashboard.panels[" + strconv.Itoa(i) + "]"
		switch {
		case p.Signal != "" && p.Expr != "":
			v.errorf(path+".expr", "a panel shows either a signal or an expr, not both")
		case p.Signal != "":
			if sig := v.s.SignalByName(p.Signal); sig == nil {
				v.errorf(path+".signal", "unknown signal %q", p.Signal)
			} else if p.Unit == "" {
				p.Unit = sig.Unit
			}
		case p.Expr != "":
			if p.Title == "" {
				v.errorf(path, "missing key %q (a panel with expr needs a title)", "title")
			}
			v.panelExpr(path+".expr", &p.Expr)
		default:
			v.errorf(path, "a panel needs signal or expr")
		}
		if p.Unit != "" && !oneOf(p.Unit, units) {
			v.errorf(path+".unit", "unknown unit %q (want %s)", p.Unit, strings.Join(units, ", "))
		}
		v.panelView(path, p)
	}
}

// panelView checks how a panel is drawn and defaults its type.
func (v *validator) panelView(path string, p *Panel) {
	if p.Type == "" {
		p.Type = PanelTimeseries
	} else if !oneOf(p.Type, []string{PanelTimeseries, PanelStat, PanelGauge}) {
		v.errorf(path+".type", "unknown panel type %q (want timeseries, stat or gauge)", p.Type)
	}
	if p.Expr != "" && p.Unit == "" {
		p.Unit = "none"
	}
}

// panelExpr expands selectors in a panel's query and parses it with
// Grafana's variables ($__rate_interval, $track, ...) interpolated.
func (v *validator) panelExpr(path string, field *string) {
	s, ok := v.expand(path, *field)
	if !ok {
		return
	}
	vars := []string{"datasource"}
	if v.s.Canary != nil {
		vars = append(vars, "track")
	}
	q, err := variables.Interpolate(s, vars)
	if err != nil {
		v.errorf(path, "%s", err)
		return
	}
	if _, err := Parser.ParseExpr(q); err != nil {
		v.errorf(path, "invalid PromQL in %q: %s", s, promqlMessage(err))
		return
	}
	*field = s
}

// camel turns api_availability into ApiAvailability.
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
