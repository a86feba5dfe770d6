package spec

import (
	"strings"
	"unicode"
)

// Names rulegen derives from the spec's names. The spec checks them for
// collisions and the model gives them to the alerts, so both read them here.

// Camel turns api_availability into ApiAvailability.
func Camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CanaryAlertName names the canary-versus-baseline alert of a signal.
func CanaryAlertName(signal string) string { return Camel(signal) + "CanaryWorse" }

// SLOAlertName names an SLO's burn-rate alert when the spec gives none.
func SLOAlertName(slo string) string { return Camel(slo) + "ErrorBudgetBurn" }

// FreezeAlertName names an SLO's release-freeze alert: api_availability →
// ApiAvailabilityErrorBudgetFreeze.
func FreezeAlertName(slo string) string { return Camel(slo) + "ErrorBudgetFreeze" }

// SLIMissingAlertName names the alert on an SLO's SLI having no data:
// api_availability → ApiAvailabilitySliMissing.
func SLIMissingAlertName(slo string) string { return Camel(slo) + "SliMissing" }
