package preflight

import (
	"math/big"

	"github.com/redline-sre/redline/rulegen/spec"
)

// budgetRecord names an SLO's remaining-budget recording, written by the
// error-budget rules (1 − spent/allowed over the SLO's period).
//
// TODO(budget): model.BudgetRemainingRecord and spec.SLO.FreezeBelow
// replace these two functions when the error-budget rules land.
func budgetRecord(o *spec.SLO) string {
	return "service:" + o.Name + ":error_budget_remaining"
}

// freezeBelow is the share of the budget under which releases freeze; 0
// turns the freeze off, and the budget check becomes a warning.
func freezeBelow(*spec.SLO) *big.Rat { return new(big.Rat) }
