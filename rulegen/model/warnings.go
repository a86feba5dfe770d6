package model

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/redline-sre/redline/rulegen/spec"
)

// canaryTrafficWarnings warns about canary comparisons that a low-traffic
// guard may switch off at the ladder's first steps: min_rate guards each
// track, and the canary track serves only the step's share of the traffic.
// At 10 requests/s a 1% canary serves 0.1/s, under a min_rate of 0.5, so
// its comparison says nothing (neither rolls back nor passes) until a
// later step. The spec does not know the service's traffic, so the
// warning names the total each step needs.
func (m *Model) canaryTrafficWarnings(s *spec.Spec) {
	c := s.Canary
	if c == nil || len(c.Steps) == 0 {
		return
	}
	for i, sig := range m.Signals {
		if !m.TracksCompared(sig) || sig.MinRate == nil || sig.MinRate.Rat().Sign() <= 0 {
			continue
		}
		var needs []string
		var smallest *big.Rat
		for _, step := range c.Steps {
			w := step.Rat()
			if w.Cmp(big.NewRat(1, 1)) >= 0 {
				continue
			}
			if smallest == nil {
				smallest = w
			}
			need := new(big.Rat).Quo(sig.MinRate.Rat(), w)
			needs = append(needs, fmt.Sprintf("%s/s at %s", spec.FormatRat(need), step.Text))
		}
		if len(needs) == 0 {
			continue
		}
		path := "signals[" + strconv.Itoa(i) + "].min_rate"
		if !s.Has(path) {
			path = "signals[" + strconv.Itoa(i) + "]"
		}
		m.Warnings = append(m.Warnings, &spec.Error{
			File: s.File, Pos: s.At(path), Path: path,
			Msg: fmt.Sprintf("%s compares the tracks only while each serves at least min_rate %s/s, and the canary track serves only the step's share: that needs %s of %s traffic in total (at fewer, the comparison says nothing at that step: no rollback, no pass). Set min_rate to at most %s × the traffic you expect at the first step, or start the ladder higher",
				spec.CanaryAlertName(sig.Name), sig.MinRate.String(), strings.Join(needs, ", "), sig.Name, percent(smallest)),
		})
	}
}
