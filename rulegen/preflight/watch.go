package preflight

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/redline-sre/redline/rulegen/model"
)

// Watch runs the preflight every interval for duration and stops at the
// first NO-GO — one canary stage's gate for a pipeline without a rollout
// controller. Each report goes to each; with evidence, every round writes
// into its own round-NNN directory. The last round starts at the end of
// duration (after a shorter wait when the interval does not divide it),
// so the stage is observed through its end. It returns the last report:
// GO when every round was GO.
func Watch(ctx context.Context, m *model.Model, o Options, duration, interval time.Duration, each func(*Report) error) (*Report, error) {
	end := time.Now().Add(duration)
	dir := o.EvidenceDir
	for round := 1; ; round++ {
		if dir != "" {
			o.EvidenceDir = filepath.Join(dir, fmt.Sprintf("round-%03d", round))
		}
		rep, err := Run(ctx, m, o)
		if rep != nil {
			if werr := each(rep); werr != nil {
				return rep, werr
			}
		}
		if err != nil || rep.Decision != GO {
			return rep, err
		}
		left := time.Until(end)
		if left <= 0 {
			return rep, nil
		}
		select {
		case <-ctx.Done():
			return rep, fmt.Errorf("watch interrupted after round %d: %w", round, ctx.Err())
		case <-time.After(min(interval, left)):
		}
	}
}
