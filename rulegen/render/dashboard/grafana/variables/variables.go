// Package variables interpolates Grafana's template variables in a query so
// the PromQL parser can check it. It is apart from package grafana so the
// spec loader can use it without depending on the dashboard library.
package variables

import (
	"fmt"
	"regexp"
	"strings"
)

// Grafana interpolates these into queries itself; to the PromQL parser
// each stands for a duration.
var builtinDurations = map[string]string{
	"__rate_interval": "1m",
	"__interval":      "1m",
	"__range":         "6h",
}

var variableRE = regexp.MustCompile(`\$(?:\{(\w+)\}|(\w+))`)

// Interpolate replaces Grafana variables in a query with sample values so
// the PromQL parser can check it: built-in durations by a duration, the
// named template variables by a plain word (they are used as label
// values). Any other $variable is an error, so a typo does not reach
// Grafana as a query that silently matches nothing.
func Interpolate(expr string, variables []string) (string, error) {
	var unknown []string
	out := variableRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := variableRE.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if name[0] >= '0' && name[0] <= '9' {
			return m // $1 is a label_replace group reference, not a variable
		}
		if d, ok := builtinDurations[name]; ok {
			return d
		}
		for _, v := range variables {
			if v == name {
				return "value"
			}
		}
		unknown = append(unknown, m)
		return m
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown Grafana variable %s (known: $__rate_interval, $__interval, $__range%s)", strings.Join(unknown, ", "), known(variables))
	}
	return out, nil
}

func known(vars []string) string {
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(", $" + v)
	}
	return b.String()
}
