package preflight

import (
	"math/big"

	"github.com/redline-sre/redline/rulegen/spec"
)

// freezeBelow is the share of the budget under which releases freeze
// (the SLO's freeze_below, 10% unless set); 0 turns the freeze off, and
// the budget check becomes a warning.
func freezeBelow(o *spec.SLO) *big.Rat {
	if o.FreezeBelow == nil {
		return new(big.Rat)
	}
	return o.FreezeBelow.Rat()
}
