package model

import "github.com/redline-sre/redline/rulegen/spec"

// Ladder is the canary's stage ladder and how its series are told apart:
// what the Argo Rollouts and Flagger writers render.
type Ladder struct {
	// Label, Canary and Baseline are the canary label and its two values.
	Label, Canary, Baseline string
	// Weights are the traffic shares of the stages, in percent.
	Weights []int32
	// StepDuration is how long each stage holds.
	StepDuration spec.Duration
}

// addOutputs carries the outputs: section and the ladder into the model,
// and derives the canary checks when an engine will run them.
func (m *Model) addOutputs(s *spec.Spec) error {
	m.Outputs = s.Outputs
	if c := s.Canary; c != nil && len(c.Steps) > 0 {
		m.Ladder = &Ladder{Label: c.Label, Canary: c.Canary, Baseline: c.Baseline, Weights: c.Weights(), StepDuration: c.StepDuration}
	}
	if o := s.Outputs; o != nil && (o.ArgoRollouts != nil || o.Flagger != nil || o.Gate != nil) {
		return m.addChecks()
	}
	return nil
}
