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
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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

// Validate reports every problem of c, naming the probe. Call it after
// WithDefaults: zero values are errors here.
func (c ProbeConfig) Validate() error {
	if c.Name == "" {
		return errors.New("header probe: name is empty")
	}
	if !utf8.ValidString(c.Name) {
		return fmt.Errorf("header probe %q: name is not valid UTF-8", c.Name)
	}
	var errs []error
	if _, err := parseURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.Interval < MinInterval {
		errs = append(errs, fmt.Errorf("interval must be at least %s", MinInterval))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout must be positive"))
	}
	if len(c.Require) == 0 {
		errs = append(errs, errors.New("require: no header to check"))
	}
	if c.FollowOtherHosts && !c.FollowRedirects {
		errs = append(errs, errors.New("follow_other_hosts needs follow_redirects: true"))
	}
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(c.Require)) {
		if !validHeaderName(name) {
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
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("header probe %q: %w", c.Name, err)
	}
	return nil
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

// parseURL accepts absolute http and https URLs with a host. Errors never
// show the URL: its user info, path or query may hold a secret.
func parseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("url does not parse") // url.Parse quotes the input
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("url must start with http:// or https://")
	}
	if u.Hostname() == "" {
		return nil, errors.New("url has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("url port %s is not between 1 and 65535", p)
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
	return c.Name == o.Name && c.URL == o.URL && c.Interval == o.Interval && c.Timeout == o.Timeout &&
		c.FollowRedirects == o.FollowRedirects && c.FollowOtherHosts == o.FollowOtherHosts && maps.Equal(c.Require, o.Require)
}

// loggableURL is u without its secrets: the password, as url.Redacted does,
// and the query, where API tokens usually travel.
func loggableURL(u *url.URL) string {
	c := *u
	if c.RawQuery != "" {
		c.RawQuery = "xxxxx"
	}
	c.Fragment, c.RawFragment = "", ""
	return c.Redacted()
}
