package spec

import (
	"strconv"
	"strings"
)

func (v *validator) trigger(path string, t *Trigger) {
	v.noTemplate(path+".description", t.Description)
	if !alertNameRE.MatchString(t.Name) {
		if t.Name == "" {
			v.missing(path, "name")
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
		v.triggerCondition(path, TriggerPart{Signal: t.Signal, Threshold: t.Threshold})
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
			v.triggerCondition(pp, p)
		}
	}
	if t.Absent && len(t.All) > 0 {
		v.errorf(path+".absent", "absent applies to one signal, not to all:")
	} else if t.Absent && t.Threshold != nil {
		v.errorf(path+".threshold", "an absent trigger fires on missing series; it has no threshold")
	}
	if t.Forecast != nil {
		v.forecast(path, t)
	}
	v.atMost(path+".for", t.For, "1d")
	if !oneOf(t.Action, actions) {
		if t.Action == "" {
			v.missing(path, "action")
		} else {
			v.errorf(path+".action", "unknown action %q (want rollback, page or ticket)", t.Action)
		}
	}
	if !oneOf(t.Severity, severities) {
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

func (v *validator) triggerCondition(path string, p TriggerPart) {
	if p.Signal == "" {
		v.missing(path, "signal")
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
	if k, ok := signalKinds[sig.Kind]; ok {
		if msg := k.thresholdProblem(sig, *p.Threshold); msg != "" {
			v.errorf(path+".threshold", "%s", msg)
		}
	}
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
			slos[SLOAlertName(o.Name)] = true
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
