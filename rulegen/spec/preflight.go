package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// PreflightCheck is one check of the spec's preflight: section, run by
// `rulegen preflight` beside the checks it derives from the signals,
// triggers and SLOs. It is a PromQL expression with its healthy
// condition, an HTTP request with the answer it must get, or — with
// signal — what no data means for one derived signal check.
type PreflightCheck struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Required false makes a failing check a warning, not a NO-GO
	// (default true).
	Required *bool `yaml:"required"`

	// Expr is an instant-vector (or scalar) PromQL expression; every
	// sample it returns must satisfy Op Threshold.
	Expr      string    `yaml:"expr"`
	Op        string    `yaml:"op"`
	Threshold *Quantity `yaml:"threshold"`
	// NoData says what an empty result means: unknown (the default, which
	// is not GO) or go, for an expression whose empty result means healthy
	// by construction (ALERTS{…}, a "> 0" filter).
	NoData string `yaml:"no_data"`

	HTTP *HTTPCheck `yaml:"http"`

	// Signal names a signal whose derived check this entry changes, with
	// a description saying why: no_data: go for a source that has no
	// series when healthy (one series per anomaly, such as
	// pg_sequence_behind_column), required: false for a signal that may be
	// unjudgeable (a baseline without history) — then it and the triggers
	// it leaves unjudged are warnings.
	Signal string `yaml:"signal"`
}

// HTTPCheck is a request whose answer must have a status and headers.
type HTTPCheck struct {
	URL string `yaml:"url"`
	// Status is the status code expected (default 200). Redirects are
	// not followed: a 302 to a login page is not the page.
	Status HTTPStatus `yaml:"status"`
	// Headers maps a header name to a regular expression its value must
	// match (anchored); "" means present with any value.
	Headers map[string]string `yaml:"headers"`
}

// IsRequired reports whether a failing check is a NO-GO.
func (c *PreflightCheck) IsRequired() bool { return c.Required == nil || *c.Required }

// No-data policies of a preflight check.
const (
	NoDataUnknown = "unknown"
	NoDataGo      = "go"
)

// HTTPStatus is an HTTP status code.
type HTTPStatus int

func (s *HTTPStatus) decodeYAML(n *yaml.Node) error {
	code, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || code < 100 || code > 599 {
		return fmt.Errorf("expected an HTTP status code (100 to 599), got %q", n.Value)
	}
	*s = HTTPStatus(code)
	return nil
}

var headerNameRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// preflight validates the preflight: section and applies its defaults.
func (v *validator) preflight() {
	names := map[string]bool{}
	for i := range v.s.Preflight {
		path := "preflight[" + strconv.Itoa(i) + "]"
		c := &v.s.Preflight[i]
		v.plain(path+".description", c.Description)
		switch {
		case c.Name == "":
			v.errorf(path, "missing key %q", "name")
		case !signalRE.MatchString(c.Name):
			v.errorf(path+".name", "invalid check name %q (lower case letters, digits and _, starting with a letter)", c.Name)
		case names[c.Name]:
			v.errorf(path+".name", "duplicate preflight check name %q", c.Name)
		}
		names[c.Name] = true
		kinds := 0
		for _, set := range []bool{c.Expr != "", c.HTTP != nil, c.Signal != ""} {
			if set {
				kinds++
			}
		}
		switch {
		case kinds > 1:
			v.errorf(path, "a check has one of expr, http and signal")
		case c.Expr != "":
			v.preflightExpr(path, c)
		case c.HTTP != nil:
			v.preflightHTTP(path, c)
		case c.Signal != "":
			v.preflightSignal(path, c)
		default:
			v.errorf(path, "missing key %q, %q or %q", "expr", "http", "signal")
		}
	}
}

func (v *validator) preflightExpr(path string, c *PreflightCheck) {
	if s, ok := v.expand(path+".expr", c.Expr); ok {
		if _, err := Parser.ParseExpr(s); err != nil {
			v.errorf(path+".expr", "invalid PromQL in %q: %s", s, promqlMessage(err))
		} else {
			c.Expr = s
		}
	}
	if c.Op == "" {
		c.Op = "<="
	} else if !oneOf(c.Op, ops) {
		v.errorf(path+".op", "invalid op %q (one of %s)", c.Op, strings.Join(ops, " "))
	}
	if c.Threshold == nil {
		v.errorf(path, "missing key %q (the healthy bound of every sample, with op)", "threshold")
	}
	switch c.NoData {
	case "":
		c.NoData = NoDataUnknown
	case NoDataUnknown, NoDataGo:
	default:
		v.errorf(path+".no_data", "invalid no_data %q (unknown or go)", c.NoData)
	}
}

func (v *validator) preflightHTTP(path string, c *PreflightCheck) {
	for _, k := range []struct {
		set  bool
		name string
	}{{c.Op != "", "op"}, {c.Threshold != nil, "threshold"}, {c.NoData != "", "no_data"}} {
		if k.set {
			v.errorf(path+"."+k.name, "%s applies to expr checks, not http ones", k.name)
		}
	}
	h := c.HTTP
	u, err := url.Parse(h.URL)
	switch {
	case h.URL == "":
		v.errorf(path+".http", "missing key %q", "url")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		// The URL may hold credentials: name the problem, not the URL.
		v.errorf(path+".http.url", "expected an http:// or https:// URL with a host")
	}
	if h.Status == 0 {
		h.Status = 200
	}
	for _, name := range sortedKeys(h.Headers) {
		p := path + ".http.headers." + name
		if !headerNameRE.MatchString(name) {
			v.errorf(p, "invalid header name %q", name)
		}
		if _, err := regexp.Compile(AnchoredHeaderPattern(h.Headers[name])); err != nil {
			v.errorf(p, "invalid regular expression %q: %v", h.Headers[name], err)
		}
	}
}

// preflightSignal checks an entry about a derived signal check: no_data:
// go (its source has no series when healthy) or required: false (it may
// be unjudgeable, a warning), with the reason.
func (v *validator) preflightSignal(path string, c *PreflightCheck) {
	if v.s.SignalByName(c.Signal) == nil {
		v.errorf(path+".signal", "unknown signal %q", c.Signal)
	}
	if c.Op != "" || c.Threshold != nil {
		v.errorf(path, "op and threshold apply to expr checks; the signal's own threshold is checked by its triggers")
	}
	switch c.NoData {
	case "", NoDataGo:
	default:
		v.errorf(path+".no_data", "a signal entry takes no_data: go or leaves it out (no data is UNKNOWN by default)")
	}
	if c.NoData == "" && c.IsRequired() {
		v.errorf(path, "a signal entry changes its check: set no_data: go or required: false")
	}
	if strings.TrimSpace(c.Description) == "" {
		v.errorf(path, "missing key %q: say why signal %q may have no data or be unjudged", "description", c.Signal)
	}
}

// AnchoredHeaderPattern is the expression a header value must match: the
// whole value, as Prometheus anchors label matchers; "" is any value.
func AnchoredHeaderPattern(re string) string {
	if re == "" {
		return "^(?s:.*)$"
	}
	return "^(?:" + re + ")$"
}
