package config

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/exporter/dsn"
	"github.com/redline-sre/redline/internal/yamlstrict"
)

// Parse decodes a config file. file is used in messages only. The file's
// bounds are checked before any parse, then it is walked node by node with
// the loader rulegen's spec shares (internal/yamlstrict), so every error
// carries the line, the column and the full key path (pgbouncer[1].dsn),
// unknown keys get a did-you-mean, and every problem in the file is
// reported at once. A key or path shaped like a DSN is redacted. On error
// the returned Config still holds every entry that parsed, so that Load
// can go on to report the problems only a whole configuration shows (a
// duplicate name, a missing dsn_file) in the same pass; it is never nil.
func Parse(file string, data []byte) (*Config, error) {
	cfg := &Config{}
	root, perr := yamlstrict.Parse(file, data, MaxConfigBytes, dsn.Name)
	if perr != nil {
		return cfg, perr
	}
	if root == nil {
		return cfg, nil // an empty file is an empty config
	}
	p := &parser{w: yamlstrict.Walker{File: file, Redact: dsn.Name}}
	p.mapping(root, "", map[string]func(*yaml.Node, string){
		"pgbouncer": func(n *yaml.Node, path string) {
			cfg.PgBouncer = p.targets(n, path, KindPgBouncer)
		},
		"postgres": func(n *yaml.Node, path string) {
			cfg.Postgres = p.targets(n, path, KindPostgres)
		},
		"probes": func(n *yaml.Node, path string) {
			cfg.Probes = p.probes(n, path)
		},
		"headers": func(n *yaml.Node, path string) {
			cfg.HeaderProbes = p.headerProbes(n, path)
		},
	})
	if len(p.w.Errs) == 0 {
		return cfg, nil
	}
	errs := make([]error, 0, len(p.w.Errs))
	for _, e := range yamlstrict.Sorted(p.w.Errs) {
		errs = append(errs, e)
	}
	return cfg, errors.Join(errs...)
}

type parser struct {
	w yamlstrict.Walker
}

// errorf records a problem at n. A message of several lines (a probe's
// own checks, joined) becomes one error per line, each with the location.
func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	for _, msg := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		p.w.Errorf(n, path, "%s", msg)
	}
}

// at is where n starts, as file:line:column.
func (p *parser) at(n *yaml.Node) string {
	return fmt.Sprintf("%s:%d:%d", p.w.File, n.Line, n.Column)
}

// resolve follows an alias; false when there is nothing to decode.
func (p *parser) resolve(n *yaml.Node, path string) (*yaml.Node, bool) {
	return p.w.Resolve(n, path)
}

// mapping checks that n is a mapping with only known keys, no duplicates,
// and calls each key's handler with the value and its path.
func (p *parser) mapping(n *yaml.Node, path string, keys map[string]func(*yaml.Node, string)) bool {
	n, ok := p.resolve(n, path)
	if !ok {
		return false
	}
	if yamlstrict.IsNull(n) {
		// An entry or a file of nothing is a mistake, not an empty entry.
		p.w.Errorf(n, path, "expected a mapping, got %s", yamlstrict.Describe(n))
		return false
	}
	return p.w.Mapping(n, path, yamlstrict.Keys{Known: slices.Sorted(maps.Keys(keys))}, func(key string, _, v *yaml.Node, kp string) {
		if v, ok := p.resolve(v, kp); ok {
			keys[key](v, kp)
		}
	})
}

// sequence calls item for each element of a sequence. A null value is an
// empty list.
func (p *parser) sequence(n *yaml.Node, path string, item func(*yaml.Node, string)) {
	p.w.Sequence(n, path, func(_ int, e *yaml.Node, ep string) {
		if e, ok := p.resolve(e, ep); ok {
			item(e, ep)
		}
	})
}

// nameRE keeps names usable as label values and URL parameters without
// escaping surprises.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]*$`)

func (p *parser) targets(n *yaml.Node, path, kind string) []Target {
	var out []Target
	p.sequence(n, path, func(e *yaml.Node, ep string) {
		t := Target{Kind: kind, Source: p.at(e)}
		keys := map[string]func(*yaml.Node, string){
			"name":     func(v *yaml.Node, kp string) { t.Name = p.name(v, kp) },
			"dsn":      func(v *yaml.Node, kp string) { t.DSN = p.str(v, kp) },
			"dsn_file": func(v *yaml.Node, kp string) { t.DSNFile = p.str(v, kp) },
			// An exporter needing more than a handful of connections is a
			// mistake; the bound also keeps the value in int32.
			"max_connections": func(v *yaml.Node, kp string) { t.MaxConnections = p.boundedInt(v, kp, MaxConnectionsLimit) },
			"connect_timeout": func(v *yaml.Node, kp string) { t.ConnectTimeout = p.duration(v, kp) },
		}
		if kind == KindPostgres {
			keys["databases"] = func(v *yaml.Node, kp string) {
				p.sequence(v, kp, func(d *yaml.Node, dp string) {
					if db := p.str(d, dp); db != "" {
						t.Databases = append(t.Databases, db)
					} else {
						p.errorf(d, dp, "must not be empty")
					}
				})
			}
		}
		p.mapping(e, ep, keys)
		if e.Kind != yaml.MappingNode {
			return
		}
		if t.Name == "" {
			p.errorf(e, ep, "missing key %q", "name")
		}
		switch {
		case t.DSN == "" && t.DSNFile == "":
			p.errorf(e, ep, "one of %q or %q is required", "dsn", "dsn_file")
		case t.DSN != "" && t.DSNFile != "":
			p.errorf(e, ep, "set only one of %q and %q", "dsn", "dsn_file")
		}
		out = append(out, t)
	})
	return out
}

// probeEntry is what a prober's section gives probeList for one entry:
// where the keys every probe has go, the prober's own keys, its checks
// (which apply the defaults first) and how to keep the entry.
type probeEntry struct {
	name, url         *string
	interval, timeout *time.Duration
	keys              map[string]func(*yaml.Node, string)
	check             func() error
	keep              func()
}

// probeList decodes a list of one prober's entries: the keys every probe
// has plus the prober's own, then, for an entry with a name and a URL, the
// prober's own checks, so that --config.check and a reload reject what
// could not run. entry is called once per entry with its position.
func (p *parser) probeList(n *yaml.Node, path string, entry func(source string) probeEntry) {
	p.sequence(n, path, func(e *yaml.Node, ep string) {
		f := entry(p.at(e))
		keys := f.keys
		keys["name"] = func(v *yaml.Node, kp string) { *f.name = p.name(v, kp) }
		keys["url"] = func(v *yaml.Node, kp string) { *f.url = p.str(v, kp) }
		keys["interval"] = func(v *yaml.Node, kp string) { *f.interval = p.duration(v, kp) }
		keys["timeout"] = func(v *yaml.Node, kp string) { *f.timeout = p.duration(v, kp) }
		p.mapping(e, ep, keys)
		if e.Kind != yaml.MappingNode {
			return
		}
		if *f.name == "" {
			p.errorf(e, ep, "missing key %q", "name")
		}
		if *f.url == "" {
			p.errorf(e, ep, "missing key %q", "url")
		}
		if *f.name == "" || *f.url == "" {
			return
		}
		if err := f.check(); err != nil {
			p.errorf(e, ep, "%v", err)
		}
		f.keep()
	})
}

func (p *parser) probes(n *yaml.Node, path string) []Probe {
	var out []Probe
	p.probeList(n, path, func(source string) probeEntry {
		pr := &Probe{Source: source}
		return probeEntry{
			name: &pr.Name, url: &pr.URL, interval: &pr.Interval, timeout: &pr.Timeout,
			keys: map[string]func(*yaml.Node, string){
				"max_in_flight": func(v *yaml.Node, kp string) { pr.MaxInFlight = p.boundedInt(v, kp, 0) },
				"headers": func(v *yaml.Node, kp string) {
					pr.Headers = p.stringMap(v, kp)
				},
			},
			check: func() error { pr.ProbeConfig = pr.WithDefaults(); return pr.Validate() },
			keep:  func() { out = append(out, *pr) },
		}
	})
	return out
}

func (p *parser) headerProbes(n *yaml.Node, path string) []HeaderProbe {
	var out []HeaderProbe
	p.probeList(n, path, func(source string) probeEntry {
		pr := &HeaderProbe{Source: source}
		return probeEntry{
			name: &pr.Name, url: &pr.URL, interval: &pr.Interval, timeout: &pr.Timeout,
			keys: map[string]func(*yaml.Node, string){
				"follow_redirects":   func(v *yaml.Node, kp string) { pr.FollowRedirects = p.boolean(v, kp) },
				"follow_other_hosts": func(v *yaml.Node, kp string) { pr.FollowOtherHosts = p.boolean(v, kp) },
				"require": func(v *yaml.Node, kp string) {
					pr.Require = p.stringMap(v, kp)
				},
			},
			check: func() error { pr.ProbeConfig = pr.WithDefaults(); return pr.Validate() },
			keep:  func() { out = append(out, *pr) },
		}
	})
	return out
}

// stringMap decodes a mapping of free-form keys (header names) to string
// values.
func (p *parser) stringMap(n *yaml.Node, path string) map[string]string {
	out := map[string]string{}
	if !p.w.Mapping(n, path, yamlstrict.Keys{}, func(key string, _, v *yaml.Node, kp string) {
		if v, ok := p.resolve(v, kp); ok {
			out[key] = p.str(v, kp)
		}
	}) {
		return nil
	}
	return out
}

// str is a scalar's text; a number or a boolean is taken as its text (a
// name of digits).
func (p *parser) str(n *yaml.Node, path string) string {
	v, _ := p.w.Scalar(n, path, "a string")
	return v
}

// The type errors below name the key and the type it takes, never the
// value: a DSN pasted under the wrong key would otherwise be printed.

func (p *parser) name(n *yaml.Node, path string) string {
	s := p.str(n, path)
	if s != "" && !nameRE.MatchString(s) {
		p.errorf(n, path, "must be a name of letters, digits, _ . : - (not starting with . : -)")
	}
	return s
}

func (p *parser) boolean(n *yaml.Node, path string) bool {
	v, _ := p.w.Bool(n, path)
	return v
}

// boundedInt reads a positive integer, at most limit when limit > 0.
func (p *parser) boundedInt(n *yaml.Node, path string, limit int) int {
	s := p.str(n, path)
	if s == "" {
		return 0
	}
	v, err := strconv.Atoi(s)
	switch {
	case limit > 0 && (err != nil || v <= 0 || v > limit):
		p.errorf(n, path, "must be an integer from 1 to %d", limit)
	case err != nil || v <= 0:
		p.errorf(n, path, "must be a positive integer")
	default:
		return v
	}
	return 0
}

// duration reads a positive duration: Prometheus's syntax (5m, 1h30m, 1d)
// or Go's (1.5s, 500us).
func (p *parser) duration(n *yaml.Node, path string) time.Duration {
	s, _ := p.w.Scalar(n, path, "a duration")
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		md, merr := model.ParseDuration(s)
		d, err = time.Duration(md), merr
	}
	switch {
	case err != nil:
		p.errorf(n, path, "%s", yamlstrict.BadDuration)
	case d <= 0:
		p.errorf(n, path, "duration must be positive")
	default:
		return d
	}
	return 0
}
