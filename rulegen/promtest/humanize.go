package promtest

import (
	"fmt"
	"math"
	"strings"

	"github.com/prometheus/common/helpers/templates"

	"github.com/redline-sre/redline/rulegen/model"
)

// formatValue renders a value the way the annotation template written by
// Signal.ValueTemplate renders it in Prometheus, so that tests can state the
// exact annotations an alert carries.
func formatValue(sig *model.Signal, v float64) string {
	var s string
	switch sig.Unit {
	case "seconds":
		s, _ = templates.HumanizeDuration(v)
	case "ratio":
		s = humanizePercentage(v)
	case "bytes":
		s = humanize1024(v) + "B"
	default:
		s = humanize(v)
	}
	return s + sig.Suffix()
}

// humanizePercentage follows Prometheus's template function of that name.
func humanizePercentage(v float64) string { return fmt.Sprintf("%.4g%%", v*100) }

// expand fills in an annotation as Prometheus does for an alert: the value
// template with its rendered text and every {{ $labels.name }}.
func expand(text, valueTemplate, value string, labels map[string]string) string {
	text = strings.ReplaceAll(text, valueTemplate, value)
	for k, v := range labels {
		text = strings.ReplaceAll(text, "{{ $labels."+k+" }}", v)
	}
	return text
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
