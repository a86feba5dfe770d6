// Package eventloop measures a target's event-loop lag from outside the
// process: an open-loop prober sends a no-op HTTP request at a steady rate,
// whatever earlier requests are doing, and records how long each one waited
// for its answer. The Manager runs one prober per configured probe and
// follows config reloads.
package eventloop

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redline-sre/redline/exporter/probe"
)

// Defaults for the optional probe settings. MaxInFlight defaults to
// Timeout/Interval rounded up (20 with these): enough for a stall as long
// as the timeout to keep every tick in flight, so the worst lag is
// observed rather than skipped at the cap.
const (
	DefaultInterval = 50 * time.Millisecond
	DefaultTimeout  = time.Second
	// MinInterval keeps a typo ("1us") from turning the prober into a
	// load generator.
	MinInterval = time.Millisecond
)

// ProbeConfig is one event-loop probe: a no-op route of a target, sent a
// request every Interval. The config file's probes: entries and the
// --eventloop.url flag become ProbeConfigs (package config).
type ProbeConfig struct {
	// Name is the probe label value; unique among probes.
	Name string
	// URL is an http(s) route of the target that does no I/O. It may carry
	// credentials: errors never show it.
	URL string
	// Interval is the mean time between two requests (default 50ms).
	Interval time.Duration
	// Timeout bounds one request; a request that hits it is observed at
	// the timeout value (default 1s).
	Timeout time.Duration
	// MaxInFlight caps the requests outstanding at once (default
	// Timeout/Interval rounded up).
	MaxInFlight int
	// Headers are added to every request (for example a Host or an
	// authorization header). Their values are never logged.
	Headers map[string]string
}

// WithDefaults returns c with every unset optional field at its default.
func (c ProbeConfig) WithDefaults() ProbeConfig {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxInFlight == 0 && c.Interval > 0 && c.Timeout > 0 {
		// A tick is skipped only when every earlier request is still
		// waiting; with this many, that takes a stall longer than the
		// timeout, which is then observed at the timeout.
		c.MaxInFlight = int((c.Timeout + c.Interval - 1) / c.Interval)
	}
	return c
}

// noun names an event-loop probe in errors.
const noun = "eventloop probe"

// Validate reports every problem of c, naming the probe and the setting
// but never a value (the URL and header values may hold secrets). Call it
// after WithDefaults: zero values are errors here.
func (c ProbeConfig) Validate() error {
	if err := probe.CheckName(noun, c.Name); err != nil {
		return err
	}
	errs := probe.CheckSettings(probe.Settings{
		Name: c.Name, URL: c.URL, Interval: c.Interval, Timeout: c.Timeout, MinInterval: MinInterval,
	})
	if c.MaxInFlight <= 0 {
		errs = append(errs, errors.New("max in-flight must be positive"))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		if !probe.ValidHeaderName(name) {
			errs = append(errs, fmt.Errorf("invalid header name %q", name))
		}
		// The value may be a secret: say which header, never what it holds.
		if strings.ContainsAny(c.Headers[name], "\r\n\x00") {
			errs = append(errs, fmt.Errorf("header %q: value contains a line break or NUL", name))
		}
	}
	return probe.Prefix(noun, c.Name, errs)
}

// equal reports whether a and b describe the same probe; a changed probe is
// restarted on reload.
func (c ProbeConfig) equal(o ProbeConfig) bool {
	return c.Name == o.Name && c.URL == o.URL && c.Interval == o.Interval && c.Timeout == o.Timeout &&
		c.MaxInFlight == o.MaxInFlight && maps.Equal(c.Headers, o.Headers)
}
