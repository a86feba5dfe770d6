package model

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/spec"
)

// ratioKind: errors ÷ total.
type ratioKind struct{}

func (ratioKind) record(m *Model, sig *Signal) {
	w, name := sig.Window.String(), sig.Name
	errs := m.record("service:"+name+"_errors:rate"+w, errorRate(nil, sig, w))
	sig.Traffic = m.record("service:"+name+"_total:rate"+w, fmt.Sprintf("sum(rate(%s[%s]))", sig.Signal.Total, w))
	sig.Value = m.record("service:"+name+":ratio_rate"+w, errs+" / "+sig.Traffic)
}

// errorRate is a ratio's error rate by the given labels, 0 wherever there
// are requests but no error series: client libraries create the series of
// an error code on its first occurrence, so a service that never failed has
// none, and its ratio must read 0, not nothing (a canary comparison with
// nothing on the stable track could never fire).
func errorRate(by []string, sig *Signal, w string) string {
	return fmt.Sprintf("%s or 0 * %s",
		agg("sum", by, fmt.Sprintf("rate(%s[%s])", sig.Signal.Errors, w)),
		agg("sum", by, fmt.Sprintf("rate(%s[%s])", sig.Signal.Total, w)))
}

func (ratioKind) condition(sig *Signal, thr spec.Quantity) string {
	return beyond(sig, thr) + minRateGuard(sig)
}

func (ratioKind) describe(sig *Signal, thr spec.Quantity) string { return describeBeyond(sig, thr) }

func (ratioKind) catchesFirstIncrement(*Signal, spec.Quantity) bool { return false }

// source: the total, since errors may rightly not exist.
func (ratioKind) source(sig *Signal) string { return sig.Signal.Total }

func (ratioKind) recordTracks(m *Model, sig *Signal, c *spec.Canary) (value, traffic string) {
	w, lvl, by := sig.Window.String(), c.Label, []string{c.Label}
	errs := m.record(lvl+":"+sig.Name+"_errors:rate"+w, errorRate(by, sig, w))
	traffic = m.record(lvl+":"+sig.Name+"_total:rate"+w, agg("sum", by, fmt.Sprintf("rate(%s[%s])", sig.Signal.Total, w)))
	value = m.record(lvl+":"+sig.Name+":ratio_rate"+w, errs+" / "+traffic)
	return value, traffic
}

// errorRatio: errors over requests; with no range, the recording window's
// own rates.
func (ratioKind) errorRatio(sig *Signal, r string) string {
	errs := "service:" + sig.Name + "_errors:rate" + sig.Window.String()
	if r == "" {
		return errs + " / " + sig.Traffic
	}
	return fmt.Sprintf("sum_over_time(%s[%s]) / sum_over_time(%s[%s])", errs, r, sig.Traffic, r)
}

func (ratioKind) data(sig *Signal) string { return guardedData(sig) }
