package spec

import (
	"math/big"
)

func (v *validator) canary(c *Canary) {
	if !labelNameRE.MatchString(c.Label) {
		v.errorf("canary.label", "invalid label name %q", c.Label)
	} else if oneOf(c.Label, ReservedLabels) {
		v.errorf("canary.label", "label %q is set by rulegen", c.Label)
	}
	v.noTemplate("canary.canary", c.Canary)
	v.noTemplate("canary.baseline", c.Baseline)
	if c.Canary == "" || c.Baseline == "" {
		v.errorf("canary", "canary needs both canary and baseline label values")
	} else if c.Canary == c.Baseline {
		v.errorf("canary.baseline", "baseline and canary are both %q", c.Canary)
	}
	if c.Factor.Kind != Number || c.Factor.Rat().Cmp(big.NewRat(1, 1)) < 0 {
		v.errorf("canary.factor", "factor must be a number of at least 1, got %s", c.Factor.Text)
	}
	v.atMost("canary.for", c.For, "1d")
	v.ladder(c)
	v.judge(c)
}
