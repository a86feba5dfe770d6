package eventloop

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/probe"
)

// Manager runs one prober per configured probe and follows config reloads
// (package probe). Unlike the scrape-time collectors, probers sample in
// the background: lag is a property of random moments, not of the moment
// Prometheus scrapes.
type Manager = probe.Manager[ProbeConfig, *prober]

// NewManager registers the event-loop metrics with reg (once per process)
// and returns a Manager with no probes. A nil logger discards logs.
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
		// A changed probe keeps its series (same name, continuous
		// counters); a removed one is forgotten.
		Forget:             m.deleteProbe,
		KeepSeriesOnChange: true,
	}, logger)
}
