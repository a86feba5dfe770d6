package preflight

import (
	"fmt"
	"math"
	"strings"

	pmodel "github.com/prometheus/common/model"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// valueIn prints a signal's value in the unit its threshold is written
// in, so that the value and "healthy when" columns compare at a glance:
// 95% against <= 90%, 459ms against <= 300ms, 1.2GiB against 1GiB.
func valueIn(sig *model.Signal, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return formatValue(v)
	}
	var s string
	switch sig.Unit {
	case "ratio":
		s = formatValue(v*100) + "%"
	case "seconds":
		s = secondsIn(v, sig.Threshold)
	case "bytes":
		s = bytesIn(v)
	default:
		s = formatValue(v)
	}
	return s + sig.Suffix()
}

// secondsIn prints seconds in the unit of the threshold's text (ms, s, m,
// h); a threshold written as a plain number is in seconds.
func secondsIn(v float64, thr *spec.Quantity) string {
	unit := "s"
	if thr != nil && thr.Kind == spec.Seconds {
		t := strings.TrimLeft(thr.Text, "0123456789.")
		switch {
		case strings.HasSuffix(t, "ms"):
			unit = "ms"
		case strings.HasSuffix(t, "m"):
			unit = "m"
		case strings.HasSuffix(t, "h"):
			unit = "h"
		}
	}
	div := map[string]float64{"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
	return formatValue(v/div) + unit
}

// bytesIn prints bytes with the largest binary prefix, as the threshold.
func bytesIn(v float64) string {
	prefixes := []string{"", "ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
	i := 0
	for i+1 < len(prefixes) && math.Abs(v) >= 1024 {
		v /= 1024
		i++
	}
	return formatValue(v) + prefixes[i] + "B"
}

// unitValues is valuesText in the signal's unit: the one value, or the
// range of values over its series.
func unitValues(sig *model.Signal, v pmodel.Vector) string {
	switch len(v) {
	case 0:
		return "no data"
	case 1:
		return valueIn(sig, float64(v[0].Value))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range v {
		f := float64(s.Value)
		lo, hi = math.Min(lo, f), math.Max(hi, f)
	}
	if lo == hi {
		return fmt.Sprintf("%s (%d series)", valueIn(sig, lo), len(v))
	}
	return fmt.Sprintf("%s…%s (%d series)", valueIn(sig, lo), valueIn(sig, hi), len(v))
}
