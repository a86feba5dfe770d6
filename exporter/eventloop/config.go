// Package eventloop measures a target's event-loop lag from outside the
// process: an open-loop prober sends a no-op HTTP request at a steady rate,
// whatever earlier requests are doing, and records how long each one waited
// for its answer. The Manager runs one prober per configured probe and
// follows config reloads.
package eventloop

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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

// Validate reports every problem of c, naming the probe and the setting
// but never a value (the URL and header values may hold secrets). Call it
// after WithDefaults: zero values are errors here.
func (c ProbeConfig) Validate() error {
	if c.Name == "" {
		return errors.New("eventloop probe: name is empty")
	}
	if !utf8.ValidString(c.Name) {
		return fmt.Errorf("eventloop probe %q: name is not valid UTF-8", c.Name)
	}
	var errs []error
	if _, err := parseProbeURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.Interval < MinInterval {
		errs = append(errs, fmt.Errorf("interval must be at least %s", MinInterval))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout must be positive"))
	}
	if c.MaxInFlight <= 0 {
		errs = append(errs, errors.New("max in-flight must be positive"))
	}
	names := make([]string, 0, len(c.Headers))
	for name := range c.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !validHeaderName(name) {
			errs = append(errs, fmt.Errorf("invalid header name %q", name))
		}
		// The value may be a secret: say which header, never what it holds.
		if strings.ContainsAny(c.Headers[name], "\r\n\x00") {
			errs = append(errs, fmt.Errorf("header %q: value contains a line break or NUL", name))
		}
	}
	for i, err := range errs {
		errs[i] = fmt.Errorf("eventloop probe %q: %w", c.Name, err)
	}
	return errors.Join(errs...)
}

// parseProbeURL accepts absolute http and https URLs with a host. Errors
// never show the URL: its user info, path or query may hold a secret.
func parseProbeURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse errors quote the input, which may hold a password.
		return nil, errors.New("url does not parse")
	}
	switch u.Scheme {
	case "http", "https":
	default:
		// Not even the scheme: in "user:pass@host" it is the user name.
		return nil, errors.New("url must start with http:// or https://")
	}
	if u.Hostname() == "" {
		return nil, errors.New("url has no host")
	}
	// url.Parse takes any digits as a port; the dial would fail on every
	// probe instead of once here.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errors.New("url port is not between 1 and 65535")
		}
	}
	return u, nil
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 5.1).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// equal reports whether a and b describe the same probe; a changed probe is
// restarted on reload.
func (c ProbeConfig) equal(o ProbeConfig) bool {
	if c.Name != o.Name || c.URL != o.URL || c.Interval != o.Interval ||
		c.Timeout != o.Timeout || c.MaxInFlight != o.MaxInFlight || len(c.Headers) != len(o.Headers) {
		return false
	}
	for k, v := range c.Headers {
		if ov, ok := o.Headers[k]; !ok || ov != v {
			return false
		}
	}
	return true
}
