package probe

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Settings are the settings every probe has, for CheckSettings.
type Settings struct {
	Name     string
	URL      string
	Interval time.Duration
	Timeout  time.Duration
	// MinInterval keeps a typo ("1us") from turning a prober into a load
	// generator; it differs by kind.
	MinInterval time.Duration
}

// CheckName reports a probe name that cannot be used; noun names the kind.
// The probe's other errors are worth reporting only when this passes: they
// are all prefixed with the name.
func CheckName(noun, name string) error {
	if name == "" {
		return fmt.Errorf("%s: name is empty", noun)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%s %q: name is not valid UTF-8", noun, name)
	}
	return nil
}

// CheckSettings reports every problem of the shared settings, unprefixed,
// naming the setting but never a value of the URL (it may hold secrets).
// Zero durations are errors: call it after defaults are applied.
func CheckSettings(s Settings) []error {
	var errs []error
	if _, err := ParseURL(s.URL); err != nil {
		errs = append(errs, err)
	}
	if s.Interval < s.MinInterval {
		errs = append(errs, fmt.Errorf("interval must be at least %s", s.MinInterval))
	}
	if s.Timeout <= 0 {
		errs = append(errs, errors.New("timeout must be positive"))
	}
	return errs
}

// Prefix joins errs with each one prefixed by the probe it belongs to, so
// that each line of the joined message names the probe on its own (the
// config loader reports each line at the probe's position).
func Prefix(noun, name string, errs []error) error {
	for i, err := range errs {
		errs[i] = fmt.Errorf("%s %q: %w", noun, name, err)
	}
	return errors.Join(errs...)
}

// ParseURL accepts absolute http and https URLs with a host. Errors never
// show the URL: its user info, path or query may hold a secret.
func ParseURL(raw string) (*url.URL, error) {
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
	// probe instead of once here. The port is digits only, never a secret.
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("url port %s is not between 1 and 65535", p)
		}
	}
	return u, nil
}

// ValidHeaderName reports whether name is an HTTP token (RFC 9110 5.1).
func ValidHeaderName(name string) bool {
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

// LoggableURL is u without its secrets: the password, as url.Redacted
// does, and the query, which is where API tokens usually travel.
func LoggableURL(u *url.URL) string {
	c := *u
	if c.RawQuery != "" {
		c.RawQuery = "xxxxx"
	}
	c.Fragment, c.RawFragment = "", ""
	return c.Redacted()
}
