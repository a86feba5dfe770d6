package dashboard

import (
	"fmt"
	"math/big"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
	"github.com/redline-sre/redline/rulegen/spec"
)

// baselinePanel draws the rate and its limit line, tolerance above the
// baseline.
type baselinePanel struct{}

func (baselinePanel) targets(q panelQuery) ([]grafana.Target, error) {
	sig := q.sig
	factor := new(big.Rat).Add(big.NewRat(1, 1), sig.Tolerance.Rat())
	return []grafana.Target{
		{Expr: agg("sum", nil, q.rate(q.sel(sig.Counter, ""))), Legend: sig.Name},
		{
			Expr: fmt.Sprintf("sum(rate(%s[%s] offset %s)) * %s", q.sel(sig.Counter, ""), sig.BaselineWindow.String(),
				sig.BaselineOffset.String(), spec.FormatRat(factor)),
			Legend: fmt.Sprintf("limit: %s + %s", sig.BaselineName(), sig.Tolerance.Text),
		},
	}, nil
}

func (baselinePanel) good(sig *model.Signal, _ *spec.Quantity) string {
	return fmt.Sprintf("Good: the rate stays under the limit line, %s above the rate of %s.", sig.Tolerance.Text, sig.BaselinePeriod())
}
