package spec

import (
	"math/big"
	"strconv"
	"strings"
)

// ladder checks the canary's stage ladder: traffic shares that rise to
// 100%, each held for step_duration, and the named selectors whose series
// carry the canary label.
func (v *validator) ladder(c *Canary) {
	prev := new(big.Rat)
	hundred := big.NewRat(1, 1)
	for i, q := range c.Steps {
		p := "canary.steps[" + strconv.Itoa(i) + "]"
		r := q.Rat()
		pct := new(big.Rat).Mul(r, big.NewRat(100, 1))
		switch {
		case q.Kind != Percent:
			v.errorf(p, "a step is a share of traffic such as 5%%, got %s", q.Text)
		case !pct.IsInt() || r.Sign() <= 0 || r.Cmp(hundred) > 0:
			// Argo Rollouts' setWeight and Flagger's stepWeights are whole
			// percents.
			v.errorf(p, "a step is a whole percent from 1%% to 100%%, got %s", q.Text)
		case r.Cmp(prev) <= 0:
			v.errorf(p, "steps must rise: %s does not follow %s", q.Text, c.Steps[i-1].Text)
		}
		prev = r
	}
	if len(c.Steps) > 0 && prev.Cmp(hundred) != 0 {
		v.errorf("canary.steps", "the last step must be 100%%: the ladder ends with the whole traffic on the release")
	}
	if !c.StepDuration.IsZero() {
		if len(c.Steps) == 0 {
			v.errorf("canary.step_duration", "step_duration needs steps")
		} else if c.StepDuration.Duration < MustDuration("1m").Duration {
			v.errorf("canary.step_duration", "step_duration must be at least 1m, got %s", c.StepDuration.Text)
		} else {
			v.atMost("canary.step_duration", c.StepDuration, "1d")
		}
	}
	seen := map[string]bool{}
	for i, name := range c.Selectors {
		p := "canary.selectors[" + strconv.Itoa(i) + "]"
		if _, ok := v.s.Selectors[name]; !ok {
			v.errorf(p, "unknown selector %q (selectors: %s)", name, strings.Join(sortedKeys(v.s.Selectors), ", "))
		} else if seen[name] {
			v.errorf(p, "duplicate selector %q", name)
		}
		seen[name] = true
	}
}

// Weights returns the ladder's steps as whole percents.
func (c *Canary) Weights() []int32 {
	out := make([]int32, 0, len(c.Steps))
	for _, q := range c.Steps {
		pct := new(big.Rat).Mul(q.Rat(), big.NewRat(100, 1))
		out = append(out, int32(pct.Num().Int64()))
	}
	return out
}
