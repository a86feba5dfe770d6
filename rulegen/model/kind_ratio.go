package model

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/spec"
)

// ratioKind: errors ÷ total.
type ratioKind struct{}

func (ratioKind) record(m *Model, sig *Signal) {
	w, name := sig.Window.String(), sig.Name
	errs := m.record("service:"+name+"_errors:rate"+w, fmt.Sprintf("sum(rate(%s[%s]))", sig.Signal.Errors, w))
	sig.Traffic = m.record("service:"+name+"_total:rate"+w, fmt.Sprintf("sum(rate(%s[%s]))", sig.Signal.Total, w))
	sig.Value = m.record("service:"+name+":ratio_rate"+w, errs+" / "+sig.Traffic)
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
	errs := m.record(lvl+":"+sig.Name+"_errors:rate"+w, agg("sum", by, fmt.Sprintf("rate(%s[%s])", sig.Signal.Errors, w)))
	traffic = m.record(lvl+":"+sig.Name+"_total:rate"+w, agg("sum", by, fmt.Sprintf("rate(%s[%s])", sig.Signal.Total, w)))
	value = m.record(lvl+":"+sig.Name+":ratio_rate"+w, errs+" / "+traffic)
	return value, traffic
}

func (ratioKind) errorRatio(sig *Signal, ws string) string {
	errs := "service:" + sig.Name + "_errors:rate" + sig.Window.String()
	return fmt.Sprintf("sum_over_time(%s[%s]) / sum_over_time(%s[%s])", errs, ws, sig.Traffic, ws)
}

func (ratioKind) data(sig *Signal) string { return guardedData(sig) }
