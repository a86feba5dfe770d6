package model

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/spec"
)

// latencyKind: a quantile of a classic histogram.
type latencyKind struct{}

func (latencyKind) record(m *Model, sig *Signal) {
	w, name, h := sig.Window.String(), sig.Name, sig.Histogram
	buckets := m.record("service:"+name+"_bucket:rate"+w, fmt.Sprintf("sum by (le) (%s)", guarded(fmt.Sprintf("rate(%s[%s])", Selector(h, h.Name+"_bucket"), w), sig.Guard)))
	sig.Traffic = m.record("service:"+name+"_count:rate"+w, fmt.Sprintf("sum(%s)", guarded(fmt.Sprintf("rate(%s[%s])", Selector(h, h.Name+"_count"), w), sig.Guard)))
	sig.Value = m.record("service:"+name+":"+QuantileName(*sig.Quantile)+"_rate"+w,
		fmt.Sprintf("histogram_quantile(%s, %s)", sig.Quantile.String(), buckets))
	if sig.Bucket {
		// From the scraped buckets, not the recorded ones: an SLO divides
		// it by the recorded count, and vmalert reads a recording of the
		// same group back from storage one evaluation late (or not at all
		// on the first), which left good one sample short of count.
		sig.Good = m.record("service:"+name+"_good:rate"+w,
			fmt.Sprintf("sum(%s)", guarded(fmt.Sprintf("rate(%s[%s])", Selector(h, h.Name+"_bucket", LeMatcher(sig.Threshold.String())), w), sig.Guard)))
	}
}

func (latencyKind) condition(sig *Signal, thr spec.Quantity) string {
	expr := beyond(sig, thr)
	if sig.Good != "" {
		expr += fmt.Sprintf(" and %s < %s * %s", sig.Good, sig.Quantile.String(), sig.Traffic)
	}
	return expr + minRateGuard(sig)
}

func (latencyKind) describe(sig *Signal, thr spec.Quantity) string { return describeBeyond(sig, thr) }

func (latencyKind) catchesFirstIncrement(*Signal, spec.Quantity) bool { return false }

// source: the histogram's _count.
func (latencyKind) source(sig *Signal) string {
	return Selector(sig.Histogram, sig.Histogram.Name+"_count")
}

func (latencyKind) recordTracks(m *Model, sig *Signal, c *spec.Canary) (value, traffic string) {
	w, lvl, by, h := sig.Window.String(), c.Label, []string{c.Label}, sig.Histogram
	buckets := m.record(lvl+":"+sig.Name+"_bucket:rate"+w, agg("sum", append(by, "le"), guarded(fmt.Sprintf("rate(%s[%s])", Selector(h, h.Name+"_bucket"), w), sig.Guard)))
	traffic = m.record(lvl+":"+sig.Name+"_count:rate"+w, agg("sum", by, guarded(fmt.Sprintf("rate(%s[%s])", Selector(h, h.Name+"_count"), w), sig.Guard)))
	value = m.record(lvl+":"+sig.Name+":"+QuantileName(*sig.Quantile)+"_rate"+w,
		fmt.Sprintf("histogram_quantile(%s, %s)", sig.Quantile.String(), buckets))
	return value, traffic
}

// errorRatio: the share of requests beyond the threshold bucket; with no
// range, the recording window's own rates.
func (latencyKind) errorRatio(sig *Signal, r string) string {
	if r == "" {
		return fmt.Sprintf("1 - %s / %s", sig.Good, sig.Traffic)
	}
	return fmt.Sprintf("1 - sum_over_time(%s[%s]) / sum_over_time(%s[%s])", sig.Good, r, sig.Traffic, r)
}

func (latencyKind) data(sig *Signal) string { return guardedData(sig) }
