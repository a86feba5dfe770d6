package headers

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/probe"
)

// Manager runs one prober per configured header probe and follows config
// reloads (package probe). Like the event-loop probers it samples in the
// background: a page that takes seconds must not hold up a scrape.
type Manager = probe.Manager[ProbeConfig, *prober]

// NewManager registers the header metrics with reg (once per process) and
// returns a Manager with no probes. A nil logger discards logs.
func NewManager(reg prometheus.Registerer, logger *slog.Logger) *Manager {
	m := newMetrics()
	m.register(reg)
	return probe.NewManager(probe.Kind[ProbeConfig, *prober]{
		Noun: noun,
		Name: func(c ProbeConfig) string { return c.Name },
		Prepare: func(c ProbeConfig) (ProbeConfig, error) {
			c = c.WithDefaults()
			return c, c.Validate()
		},
		Equal: ProbeConfig.equal,
		Start: func(c ProbeConfig, logger *slog.Logger) *prober { return startProber(c, m, logger) },
		// A changed probe may check other headers: its old results must
		// not linger next to the new ones.
		Forget: m.deleteProbe,
	}, logger)
}
