package promtest

import (
	"fmt"

	"github.com/redline-sre/redline/rulegen/model"
)

// forPin asserts how long a firing alert was pending: exactly its `for`.
// The first firing evaluation minus the activation time Prometheus keeps
// in ALERTS_FOR_STATE does not depend on when the condition first held,
// which differs by kind (a gauge at the first sample, a rate a minute or
// more later), so `for` one evaluation longer or shorter fails the test
// whatever the signal. The subquery reaches back past the group's start.
func forPin(a *model.Alert, evalAt int) ExprTest {
	return ExprTest{
		Expr: fmt.Sprintf(`max(min_over_time(timestamp(ALERTS{alertname=%q, alertstate="firing"})[%s:1m]) - ignoring(alertstate) ALERTS_FOR_STATE{alertname=%q})`,
			a.Name, minutes(evalAt+1), a.Name),
		EvalTime:   minutes(evalAt),
		ExpSamples: []Sample{{Labels: "{}", Value: a.For.Seconds()}},
	}
}
