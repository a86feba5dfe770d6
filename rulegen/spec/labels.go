package spec

import (
	"strings"
)

// labels checks fixed labels added to alerts whose series come from
// signals. A fixed value would replace a label that rulegen sets or that the
// series carry, and the route, the inhibit rules or the alert's identity
// would silently change: an slo label on every alert, for one, turns off
// the inhibit rule that targets slo="".
func (v *validator) labels(path string, m map[string]string, signals []*Signal) {
	for _, k := range sortedKeys(m) {
		p := path + "." + k
		v.noTemplate(p, m[k])
		switch {
		case !labelNameRE.MatchString(k):
			v.errorf(p, "invalid label name %q", k)
		case strings.HasPrefix(k, "__"):
			v.errorf(p, "label names starting with __ are reserved for Prometheus")
		case oneOf(k, ReservedLabels):
			v.errorf(p, "label %q is set by rulegen (reserved: %s)", k, strings.Join(ReservedLabels, ", "))
		case oneOf(k, IdentityLabels):
			v.errorf(p, "label %q comes from the series and tells alerts apart (the inhibit rules compare it); a fixed value would overwrite it", k)
		case v.s.Canary != nil && k == v.s.Canary.Label:
			v.errorf(p, "label %q is the canary label; canary alerts take it from the series", k)
		default:
			for _, sig := range signals {
				if oneOf(k, sig.By) {
					v.errorf(p, "label %q is kept from the series by signal %q (by); a fixed value would overwrite it", k, sig.Name)
					break
				}
			}
		}
	}
}
