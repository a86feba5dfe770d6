// Package headers checks that a target's HTTP answers carry the security
// headers a release must not drop. A prober per configured probe sends one
// GET every interval (never more than one at a time), records whether the
// request got an answer and how long it took, and for each required header
// whether the answer has it with a matching value. The Manager runs the
// probers and follows config reloads.
package headers

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/redline-sre/redline/exporter/probe"
)

// Defaults for the optional probe settings.
const (
	DefaultInterval = 30 * time.Second
	DefaultTimeout  = 5 * time.Second
	// MinInterval keeps a typo from turning the prober into a load test.
	MinInterval = time.Second
	// MaxRedirects bounds follow_redirects.
	MaxRedirects = 5
)

// DefaultRequire is what a probe checks when it names no header: both
// present, with any value.
func DefaultRequire() map[string]string {
	return map[string]string{"Content-Security-Policy": "", "Cross-Origin-Embedder-Policy": ""}
}

// ProbeConfig is one header probe. The config file's headers: entries and
// the --headers.url flag become ProbeConfigs (package config).
type ProbeConfig struct {
	// Name is the probe label value; unique among header probes.
	Name string
	// URL is an http(s) page of the target. It may carry credentials and a
	// token in its query: neither is ever logged or shown in an error.
	URL string
	// Interval is the time between two requests (default 30s).
	Interval time.Duration
	// Timeout bounds one request, redirects included (default 5s).
	Timeout time.Duration
	// Require maps a header name to a regular expression its value must
	// match (anchored: the whole value); "" means present with any value.
	// Empty means DefaultRequire.
	Require map[string]string
	// FollowRedirects makes the probe follow up to MaxRedirects redirects
	// and check the final answer; by default a redirect is the answer
	// checked, so a probe of the wrong URL shows as missing headers rather
	// than passing on another page.
	FollowRedirects bool
	// FollowOtherHosts lets FollowRedirects follow a redirect to another
	// host name. Off, such a redirect fails the probe: the probe URL's
	// query often carries a token, and the next host is chosen by the
	// answer, not by the configuration.
	FollowOtherHosts bool
}

// WithDefaults returns c with every unset optional field at its default.
func (c ProbeConfig) WithDefaults() ProbeConfig {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if len(c.Require) == 0 {
		c.Require = DefaultRequire()
	}
	return c
}

// noun names a header probe in errors.
const noun = "header probe"

// Validate reports every problem of c, naming the probe. Call it after
// WithDefaults: zero values are errors here.
func (c ProbeConfig) Validate() error {
	if err := probe.CheckName(noun, c.Name); err != nil {
		return err
	}
	errs := probe.CheckSettings(probe.Settings{
		Name: c.Name, URL: c.URL, Interval: c.Interval, Timeout: c.Timeout, MinInterval: MinInterval,
	})
	if len(c.Require) == 0 {
		errs = append(errs, errors.New("require: no header to check"))
	}
	if c.FollowOtherHosts && !c.FollowRedirects {
		errs = append(errs, errors.New("follow_other_hosts needs follow_redirects: true"))
	}
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(c.Require)) {
		if !probe.ValidHeaderName(name) {
			errs = append(errs, fmt.Errorf("require: invalid header name %q", name))
			continue
		}
		canon := http.CanonicalHeaderKey(name)
		if prev, dup := seen[canon]; dup {
			errs = append(errs, fmt.Errorf("require: headers %q and %q are the same header", prev, name))
		}
		seen[canon] = name
		if _, err := compile(c.Require[name]); err != nil {
			errs = append(errs, fmt.Errorf("require %q: %w", name, err))
		}
	}
	return probe.Prefix(noun, c.Name, errs)
}

// compile anchors a required value's pattern; "" matches any value.
func compile(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, nil
	}
	re, err := regexp.Compile(`^(?:` + pattern + `)$`)
	if err != nil {
		return nil, errors.New("not a valid regular expression")
	}
	return re, nil
}

// equal reports whether a and b describe the same probe; a changed probe is
// restarted on reload.
func (c ProbeConfig) equal(o ProbeConfig) bool {
	return c.Name == o.Name && c.URL == o.URL && c.Interval == o.Interval && c.Timeout == o.Timeout &&
		c.FollowRedirects == o.FollowRedirects && c.FollowOtherHosts == o.FollowOtherHosts && maps.Equal(c.Require, o.Require)
}
