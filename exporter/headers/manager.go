package headers

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Manager runs one prober per configured header probe and follows config
// reloads. Like the event-loop probers it samples in the background: a
// page that takes seconds must not hold up a scrape.
type Manager struct {
	metrics *metrics
	logger  *slog.Logger

	mu      sync.Mutex
	probers map[string]*prober
	stopped bool
}

// NewManager registers the header metrics with reg (once per process) and
// returns a Manager with no probes. A nil logger discards logs.
func NewManager(reg prometheus.Registerer, logger *slog.Logger) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := newMetrics()
	m.register(reg)
	return &Manager{metrics: m, logger: logger, probers: map[string]*prober{}}
}

// Apply makes the running probes match probes: it starts new ones, restarts
// changed ones and stops removed ones, deleting their series. Defaults are
// applied first. When any probe is invalid or two share a name, Apply
// returns the error and changes nothing.
func (m *Manager) Apply(probes []ProbeConfig) error {
	want := make(map[string]ProbeConfig, len(probes))
	var errs []error
	for _, c := range probes {
		c = c.WithDefaults()
		if err := c.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := want[c.Name]; dup {
			errs = append(errs, fmt.Errorf("header probe %q: name used twice", c.Name))
			continue
		}
		want[c.Name] = c
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return errors.New("headers: manager is stopped")
	}
	for name, p := range m.probers {
		if c, keep := want[name]; keep && c.equal(p.cfg) {
			continue
		}
		p.stop()
		delete(m.probers, name)
		// A changed probe may check other headers: its old results must
		// not linger next to the new ones.
		m.metrics.deleteProbe(name)
	}
	for name, c := range want {
		if _, running := m.probers[name]; !running {
			m.probers[name] = startProber(c, m.metrics, m.logger)
		}
	}
	return nil
}

// Stop stops every probe and waits for their goroutines to end. Apply fails
// afterwards. Stop is safe to call more than once.
func (m *Manager) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopped = true
	var wg sync.WaitGroup
	for name, p := range m.probers {
		wg.Go(p.stop)
		delete(m.probers, name)
	}
	wg.Wait()
}
