package model

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/redline-sre/redline/rulegen/spec"
)

// perSuffix is what a per-time-unit value appends to its quantity.
var perSuffix = map[string]string{"second": "/s", "minute": "/min", "hour": "/h"}

// legacyPerUnits are the units that already say "a plain number per time
// unit"; they take no second suffix from per.
var legacyPerUnits = map[string]string{"per_second": "/s", "per_minute": "/min", "per_hour": "/h"}

// Suffix is the time unit a signal's values are counted per ("/h"), or "".
func (s *Signal) Suffix() string {
	if suf, ok := legacyPerUnits[s.Unit]; ok {
		return suf
	}
	return perSuffix[s.Per]
}

// ValueTemplate formats $value in an annotation: bytes in binary prefixes,
// ratios as percentages, seconds as durations, then the per suffix.
func (s *Signal) ValueTemplate() string {
	var v string
	switch s.Unit {
	case "seconds":
		v = "{{ $value | humanizeDuration }}"
	case "ratio":
		v = "{{ $value | humanizePercentage }}"
	case "bytes":
		v = "{{ $value | humanize1024 }}B"
	default:
		v = "{{ $value | humanize }}"
	}
	return v + s.Suffix()
}

// ThresholdText prints a threshold the way ValueTemplate prints values,
// exactly: 50MiB/h, 20%/h, 200ms.
func (s *Signal) ThresholdText(thr spec.Quantity) string {
	return quantityText(s.Unit, thr) + s.Suffix()
}

// quantityText prints an exact quantity in a unit without a per suffix.
func quantityText(unit string, q spec.Quantity) string {
	switch unit {
	case "seconds":
		if q.Kind == spec.Seconds {
			return q.Text
		}
		return q.String() + "s"
	case "ratio":
		if q.Kind == spec.Percent {
			return q.Text
		}
		return spec.FormatRat(new(big.Rat).Mul(q.Rat(), big.NewRat(100, 1))) + "%"
	case "bytes":
		return bytesText(q.Rat())
	}
	return q.Text
}

// bytesText prints a byte count with the largest binary prefix, as
// humanize1024 does: exactly when that takes at most three decimals
// (52428800 → 50MiB), else to four significant digits like the value.
func bytesText(r *big.Rat) string {
	prefixes := []string{"", "ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
	v := new(big.Rat).Set(r)
	unit := big.NewRat(1024, 1)
	i := 0
	for i+1 < len(prefixes) && new(big.Rat).Abs(v).Cmp(unit) >= 0 {
		v.Quo(v, unit)
		i++
	}
	if new(big.Rat).Mul(v, big.NewRat(1000, 1)).IsInt() {
		return spec.FormatRat(v) + prefixes[i] + "B"
	}
	f, _ := v.Float64()
	return strconv.FormatFloat(f, 'g', 4, 64) + prefixes[i] + "B"
}

// identity names the series an alert is about in annotation templates:
// "instance {{ $labels.instance }}", or for several labels
// "target/database {{ $labels.target }}/{{ $labels.database }}". It is
// empty for a signal aggregated over the whole service.
func (s *Signal) identity() string {
	if len(s.By) == 0 {
		return ""
	}
	vals := make([]string, len(s.By))
	for i, l := range s.By {
		vals[i] = "{{ $labels." + l + " }}"
	}
	return strings.Join(s.By, "/") + " " + strings.Join(vals, "/")
}

// Subject is the signal's name with the identity of its series: "memory_growth
// of instance {{ $labels.instance }}".
func (s *Signal) Subject() string {
	if id := s.identity(); id != "" {
		return s.Name + " of " + id
	}
	return s.Name
}

// BaselineName is how the baseline is named in rule text and legends: "1h
// baseline", or "30m baseline 1d earlier" when it is offset further than
// the window.
func (s *Signal) BaselineName() string {
	if s.BaselineOffset.Duration == s.Window.Duration {
		return s.BaselineWindow.String() + " baseline"
	}
	return s.BaselineWindow.String() + " baseline " + s.BaselineOffset.String() + " earlier"
}

// BaselinePeriod says in words which past window a baseline signal is
// compared with: "the previous 1h", or "the 1h ending 1d earlier".
func (s *Signal) BaselinePeriod() string {
	if s.BaselineOffset.Duration == s.Window.Duration {
		return "the previous " + s.BaselineWindow.String()
	}
	return "the " + s.BaselineWindow.String() + " ending " + s.BaselineOffset.String() + " earlier"
}
