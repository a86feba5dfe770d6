package promtest

import (
	"fmt"
	"math"
	"strings"

	"github.com/prometheus/common/helpers/templates"

	"github.com/redline-sre/redline/rulegen/model"
)

// formatValue renders a value the way the annotation templates written by
// model.ValueTemplate render it in Prometheus, so that tests can state the
// exact annotations an alert carries.
func formatValue(unit string, v float64) string {
	switch unit {
	case "seconds":
		s, _ := templates.HumanizeDuration(v)
		return s
	case "ratio":
		return fmt.Sprintf("%.4g%%", v*100)
	case "bytes":
		return humanize1024(v) + "B"
	case "per_second":
		return humanize(v) + "/s"
	case "per_minute":
		return humanize(v) + "/min"
	case "per_hour":
		return humanize(v) + "/h"
	}
	return humanize(v)
}

// expandValue replaces the unit's $value template in an annotation.
func expandValue(text, unit string, v float64) string {
	return strings.ReplaceAll(text, model.ValueTemplate(unit), formatValue(unit, v))
}

// humanize follows Prometheus's template function of the same name.
func humanize(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v)
	}
	if math.Abs(v) >= 1 {
		prefix := ""
		for _, p := range []string{"k", "M", "G", "T", "P", "E", "Z", "Y"} {
			if math.Abs(v) < 1000 {
				break
			}
			prefix = p
			v /= 1000
		}
		return fmt.Sprintf("%.4g%s", v, prefix)
	}
	prefix := ""
	for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix = p
		v *= 1000
	}
	return fmt.Sprintf("%.4g%s", v, prefix)
}

// humanize1024 follows Prometheus's template function of the same name.
func humanize1024(v float64) string {
	if math.Abs(v) <= 1 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v)
	}
	prefix := ""
	for _, p := range []string{"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"} {
		if math.Abs(v) < 1024 {
			break
		}
		prefix = p
		v /= 1024
	}
	return fmt.Sprintf("%.4g%s", v, prefix)
}
