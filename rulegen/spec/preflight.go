package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// IsRequired reports whether a failing check is a NO-GO.
func (c *PreflightCheck) IsRequired() bool { return c.Required == nil || *c.Required }

// No-data policies of a preflight check.
const (
	NoDataUnknown = "unknown"
	NoDataGo      = "go"
)

func (s *HTTPStatus) decodeYAML(n *yaml.Node) error {
	code, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || code < 100 || code > 599 {
		return fmt.Errorf("expected an HTTP status code (100 to 599), got %q", n.Value)
	}
	*s = HTTPStatus(code)
	return nil
}

var headerNameRE = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

// preflight validates the preflight: section.
func (v *validator) preflight() {
	names := map[string]bool{}
	for i := range v.s.Preflight {
		path := "preflight[" + strconv.Itoa(i) + "]"
		c := &v.s.Preflight[i]
		v.noTemplate(path+".description", c.Description)
		switch {
		case c.Name == "":
			v.missing(path, "name")
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
	if !oneOf(c.Op, ops) {
		v.errorf(path+".op", "invalid op %q (one of %s)", c.Op, strings.Join(ops, " "))
	}
	if c.Threshold == nil {
		v.missing(path, "threshold", " (the healthy bound of every sample, with op)")
	}
	if !oneOf(c.NoData, []string{NoDataUnknown, NoDataGo}) {
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
		v.missing(path+".http", "url")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		// The URL may hold credentials: name the problem, not the URL.
		v.errorf(path+".http.url", "expected an http:// or https:// URL with a host")
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
		v.missing(path, "description", fmt.Sprintf(": say why signal %q may have no data or be unjudged", c.Signal))
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
