// Package probe is the machinery every background prober shares: the
// Manager that starts, restarts and stops one prober per configured probe
// as the configuration is reloaded, and the checks every probe's settings
// go through (name, URL, timing, header names). A prober package
// (eventloop, headers) supplies only what differs: its settings, its
// metrics and its request loop, through a Kind.
package probe

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
)

// Running is one started prober.
type Running interface {
	// Stop ends the prober's goroutines and returns once they have ended.
	Stop()
}

// Kind is what a prober package gives the Manager. C is its probe
// configuration, R its running prober.
type Kind[C any, R Running] struct {
	// Noun names a probe of this kind in errors ("eventloop probe").
	Noun string
	// Name is a probe's name, unique among the probes of a kind.
	Name func(C) string
	// Prepare applies defaults and validates; the Manager starts only
	// what Prepare returns without error.
	Prepare func(C) (C, error)
	// Equal reports whether two prepared configs describe the same probe;
	// a probe whose config changed is restarted on reload.
	Equal func(a, b C) bool
	// Start starts a prober for a prepared config.
	Start func(C, *slog.Logger) R
	// Forget deletes a probe's series. The Manager calls it when a probe
	// is removed, and when it is restarted with another config unless
	// KeepSeriesOnChange is set.
	Forget func(name string)
	// KeepSeriesOnChange keeps a changed probe's series across its
	// restart: right for counters that must stay continuous, wrong for
	// series whose labels depend on the config.
	KeepSeriesOnChange bool
}

// Manager runs one prober per configured probe of one Kind and follows
// config reloads. Probers sample in the background, not at scrape time.
type Manager[C any, R Running] struct {
	kind   Kind[C, R]
	logger *slog.Logger

	mu      sync.Mutex
	probers map[string]running[C, R]
	stopped bool
}

type running[C any, R Running] struct {
	cfg C
	r   R
}

// NewManager returns a Manager with no probes. A nil logger discards logs.
func NewManager[C any, R Running](kind Kind[C, R], logger *slog.Logger) *Manager[C, R] {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Manager[C, R]{kind: kind, logger: logger, probers: map[string]running[C, R]{}}
}

// Apply makes the running probes match probes: it starts new ones,
// restarts changed ones and stops removed ones, deleting their series.
// Defaults are applied first. When any probe is invalid or two share a
// name, Apply returns every problem and changes nothing, so a bad reload
// keeps the old probes running.
func (m *Manager[C, R]) Apply(probes []C) error {
	want := make(map[string]C, len(probes))
	var errs []error
	for _, c := range probes {
		c, err := m.kind.Prepare(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		name := m.kind.Name(c)
		if _, dup := want[name]; dup {
			errs = append(errs, fmt.Errorf("%s %q: name used twice", m.kind.Noun, name))
			continue
		}
		want[name] = c
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return fmt.Errorf("%s: manager is stopped", m.kind.Noun)
	}
	for name, p := range m.probers {
		c, keep := want[name]
		if keep && m.kind.Equal(c, p.cfg) {
			continue
		}
		p.r.Stop()
		delete(m.probers, name)
		// A removed probe must not linger as a stale series.
		if !keep || !m.kind.KeepSeriesOnChange {
			m.kind.Forget(name)
		}
	}
	for name, c := range want {
		if _, ok := m.probers[name]; !ok {
			m.probers[name] = running[C, R]{cfg: c, r: m.kind.Start(c, m.logger)}
		}
	}
	return nil
}

// Stop stops every probe and waits for their goroutines to end. Apply
// fails afterwards. Stop is safe to call more than once.
func (m *Manager[C, R]) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopped = true
	var wg sync.WaitGroup
	for name, p := range m.probers {
		wg.Go(p.r.Stop)
		delete(m.probers, name)
	}
	wg.Wait()
}

// Prober returns the running prober of a probe, for tests that look inside.
func (m *Manager[C, R]) Prober(name string) (R, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.probers[name]
	return p.r, ok
}

// Names lists the running probes, sorted (the probers' own tests read
// it to see which probes a reload left running).
func (m *Manager[C, R]) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Keys(m.probers))
}
