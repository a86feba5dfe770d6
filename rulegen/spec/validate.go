package spec

import (
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// validator checks a decoded spec whose defaults are applied.
type validator struct {
	s    *Spec
	errs ErrorList
	// set are the kind-specific keys each signal wrote, read before
	// defaults: a key applies to some kinds only.
	set []map[string]bool
	// failed are the paths whose value did not decode: a check of what
	// is there instead would only repeat the decoding error.
	failed map[string]bool
}

// failedAt reports whether the value at path, or one around it, did not
// decode.
func (v *validator) failedAt(path string) bool {
	for {
		if v.failed[path] {
			return true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return v.failed[""]
		}
		path = path[:i]
	}
}

// missing reports a required key that is not there, unless it is there
// but did not decode; note adds to the message.
func (v *validator) missing(path, key string, note ...string) {
	if v.failedAt(join(path, key)) {
		return
	}
	v.errorf(path, "missing key %q%s", key, strings.Join(note, ""))
}

// written reports whether the spec wrote the key at path, rather than
// leaving it to its default: a default is valid, and a key derived from a
// wrong one must not be reported twice.
func (v *validator) written(path string) bool {
	_, ok := v.s.pos[path]
	return ok
}

func (v *validator) errorf(path, format string, args ...any) {
	if v.failedAt(path) {
		return
	}
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
var ReservedLabels = []string{"action", "alertname", "canary", "drill", "drill_id", "freeze", "long_window", "rollback", "service", "severity", "short_window", "signal", "slo"}

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
			v.missing("version", "version", fmt.Sprintf(" (want %q)", Version))
		} else {
			v.errorf("version", "unsupported version %q (want %q)", s.Version, Version)
		}
	}
	if !serviceRE.MatchString(s.Service) {
		if s.Service == "" {
			v.missing("service", "service")
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
		v.signal(path, sig, v.set[i])
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
		if prev, dup := alerts[o.SLIMissingAlert()]; dup {
			v.errorf(path+".name", "alert name %q of the SLI's no-data alert is taken (by %s)", o.SLIMissingAlert(), prev)
		}
		alerts[o.SLIMissingAlert()] = path
	}
	if s.Canary != nil {
		v.canary(s.Canary)
		for _, sig := range s.Signals {
			if !sig.ComparesTracks() {
				continue
			}
			if prev, dup := alerts[CanaryAlertName(sig.Name)]; dup {
				v.errorf(prev+".name", "alert name %q is taken by the canary alert of signal %q", CanaryAlertName(sig.Name), sig.Name)
			}
		}
	}
	v.alertmanager(&s.Alertmanager)
	v.outputs(s.Outputs)
	if s.Dashboard != nil {
		v.dashboard(s.Dashboard)
	}
	v.preflight()
}

// noTemplate rejects template delimiters in text that Prometheus expands as a
// template (alert labels and annotations): a stray {{ would break the
// rule file rather than print.
func (v *validator) noTemplate(path, text string) {
	if strings.Contains(text, "{{") || strings.Contains(text, "}}") {
		v.errorf(path, "must be plain text: {{ and }} are template delimiters in Prometheus alerts")
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

// ratioProblem checks a value meant as a fraction of 1.
func ratioProblem(q Quantity) string {
	r := q.Rat()
	if q.Kind == Seconds {
		return fmt.Sprintf("expected a ratio such as 1%% or 0.01, got duration %s", q.Text)
	}
	if r.Sign() < 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		// The one wording of the range mistake (objectiveProblem too).
		return fmt.Sprintf("%s is out of range for a ratio (0%% to 100%%, or 0 to 1)%s", q.Text, percentHint(q))
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
