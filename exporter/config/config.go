// Package config is the exporter's target configuration: the YAML file
// behind --config.file and the one-target flags, merged into one Config.
// Parsing is strict: an unknown key or a bad value is an error that names
// the file, the line and the key.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redline-sre/redline/exporter/dsn"
	"github.com/redline-sre/redline/exporter/eventloop"
	"github.com/redline-sre/redline/exporter/headers"
)

// Target kinds. A kind selects the code that builds a target from its
// configuration.
const (
	KindPgBouncer = "pgbouncer"
	KindPostgres  = "postgres"
)

// Names used for the targets that the one-target flags create.
const (
	FlagPgBouncerName = "pgbouncer"
	FlagPostgresName  = "postgres"
	// FlagProbeName is what the platform spec (rulegen init) selects, so
	// the default exporter and the default spec work together.
	FlagProbeName = "platform"
)

// MaxConnectionsLimit bounds max_connections: an exporter needing more
// than a handful of connections is a mistake. Defaults for settings left
// out are the target packages' own (pgbouncer.Options, postgres.Options),
// so a target built from the file, a flag or code gets the same.
const MaxConnectionsLimit = 20

// Config is everything the exporter serves.
type Config struct {
	PgBouncer []Target
	Postgres  []Target
	Probes    []Probe
	// HeaderProbes are the security-header probes (headers: entries and
	// --headers.url).
	HeaderProbes []HeaderProbe
}

// Target is one database endpoint. DSN is a secret: it never goes into logs,
// labels or error text (LogValue leaves it out).
type Target struct {
	Kind string
	Name string
	// DSN is the connection string, read from the file named by DSNFile when
	// that is set.
	DSN     string
	DSNFile string
	// Databases lists the databases a postgres target reads per-database
	// signals from (empty: every database that allows connections, is not a
	// template and that the role may CONNECT to).
	Databases []string
	// MaxConnections bounds the target's connection pool; for a postgres
	// target it bounds each covered database's pool. 0: the target
	// package's default.
	MaxConnections int
	// ConnectTimeout bounds one connection attempt. 0: the target
	// package's default.
	ConnectTimeout time.Duration
	// Source is where the target was defined ("file.yml:12" or a flag name),
	// for messages.
	Source string
}

// LogValue keeps the DSN out of structured logs.
func (t Target) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", t.Kind), slog.String("name", t.Name), slog.String("source", t.Source))
}

// Probe is one event-loop prober and where it was defined. Its settings
// are eventloop's own type, defaulted and validated by eventloop, so a
// probe that loads is a probe that runs.
type Probe struct {
	eventloop.ProbeConfig
	// Source is where the probe was defined ("file.yml:12" or a flag name).
	Source string
}

// LogValue keeps the URL and headers (possibly secret) out of structured
// logs.
func (p Probe) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("source", p.Source))
}

// HeaderProbe is one security-header probe and where it was defined; its
// settings are package headers' own type, defaulted and validated there.
type HeaderProbe struct {
	headers.ProbeConfig
	// Source is where the probe was defined ("file.yml:12" or a flag name).
	Source string
}

// LogValue keeps the URL (possibly secret) out of structured logs.
func (p HeaderProbe) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("source", p.Source))
}

// Targets returns every database target, pgBouncer first, in file order.
func (c *Config) Targets() []Target {
	out := make([]Target, 0, len(c.PgBouncer)+len(c.Postgres))
	out = append(out, c.PgBouncer...)
	return append(out, c.Postgres...)
}

// Flags are the one-target settings from the command line and environment.
// Each non-empty DSN (or DSN file) adds one target under the Flag*Name name.
type Flags struct {
	PgBouncerDSN     string
	PgBouncerDSNFile string
	PostgresDSN      string
	PostgresDSNFile  string
	EventloopURL     string
	// EventloopURLFile names a file holding EventloopURL: the URL may carry
	// credentials. It is read on every load, like the DSN files.
	EventloopURLFile string
	// EventloopName names the flag's probe (the probe label); empty means
	// FlagProbeName. A spec selects its probe by this name.
	EventloopName string
	// HeadersURL adds one header probe named FlagProbeName with the
	// default requirements.
	HeadersURL string
	// HeadersURLFile names a file holding HeadersURL, so that a
	// Deployment can take the page from the Secret that holds the
	// event-loop URL.
	HeadersURLFile string
}

// Load reads the config file (when path is not empty), adds the flag
// targets, reads DSN files and validates the result. Reading DSN files here
// means a reload picks up a rotated secret. Every problem is reported in one
// pass: the file's own, the flags', and those of the whole configuration
// (duplicate names, unreadable DSN files, bad DSNs).
func Load(path string, flags Flags) (*Config, error) {
	cfg := &Config{}
	var errs []error
	if path != "" {
		name := dsn.Name(path)
		data, err := readFile(path, MaxConfigBytes)
		switch {
		case errors.Is(err, errTooLarge):
			// Parse's own check names the line and column of the limit.
		case err != nil:
			return nil, fmt.Errorf("config: %w", err)
		}
		cfg, err = Parse(name, data)
		errs = append(errs, err)
	}
	errs = append(errs, cfg.addFlags(flags), cfg.resolve())
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := cfg.validate(path); err != nil {
		return nil, err
	}
	return cfg, nil
}

// validate holds the checks of a whole configuration that parses: the one
// place --config.check, the start and every reload ask whether it can be
// served.
func (c *Config) validate(path string) error {
	if len(c.Targets()) == 0 && len(c.Probes) == 0 && len(c.HeaderProbes) == 0 {
		// Valid YAML but nothing to serve: most often a DSN variable that did
		// not reach the process, or a file emptied by mistake. Serving it
		// would drop every target, and with them every pg_up and
		// pgbouncer_up series a "target down" alert reads.
		where := "config"
		if path != "" {
			where = dsn.Name(path) + ":1:1"
		}
		return fmt.Errorf("%s: no targets configured: give --config.file with pgbouncer:, postgres:, probes: or headers: entries, or --pgbouncer.dsn, --postgres.dsn, --eventloop.url or --headers.url (or their REDLINE_* variables)", where)
	}
	return nil
}

func (c *Config) addFlags(f Flags) error {
	add := func(kind, name, conn, dsnFile string) error {
		if conn == "" && dsnFile == "" {
			return nil
		}
		if conn != "" && dsnFile != "" {
			return fmt.Errorf("config: --%s.dsn and --%s.dsn-file (or their REDLINE_* variables) are both set; use one", kind, kind)
		}
		source := "--" + kind + ".dsn"
		if dsnFile != "" {
			source += "-file"
		}
		t := Target{Kind: kind, Name: name, DSN: conn, DSNFile: dsnFile, Source: source}
		if kind == KindPgBouncer {
			c.PgBouncer = append(c.PgBouncer, t)
		} else {
			c.Postgres = append(c.Postgres, t)
		}
		return nil
	}
	return errors.Join(
		add(KindPgBouncer, FlagPgBouncerName, f.PgBouncerDSN, f.PgBouncerDSNFile),
		add(KindPostgres, FlagPostgresName, f.PostgresDSN, f.PostgresDSNFile),
		c.addFlagProbe(f),
	)
}

func (c *Config) addFlagProbe(f Flags) error {
	if f.EventloopURL != "" && f.EventloopURLFile != "" {
		return errors.New("config: --eventloop.url and --eventloop.url-file (or their REDLINE_* variables) are both set; use one")
	}
	if f.EventloopURL != "" || f.EventloopURLFile != "" {
		name := f.EventloopName
		if name == "" {
			name = FlagProbeName
		}
		p := Probe{ProbeConfig: eventloop.ProbeConfig{Name: name, URL: f.EventloopURL}, Source: "--eventloop.url"}
		if f.EventloopURLFile != "" {
			p.Source = "--eventloop.url-file"
			b, err := readFile(f.EventloopURLFile, MaxSecretBytes)
			if err != nil {
				return fmt.Errorf("config: --eventloop.url-file: %w", err)
			}
			if p.URL = strings.TrimSpace(string(b)); p.URL == "" {
				return fmt.Errorf("config: --eventloop.url-file: %s is empty", dsn.Name(f.EventloopURLFile))
			}
		}
		p.ProbeConfig = p.WithDefaults()
		if err := p.Validate(); err != nil {
			return fmt.Errorf("config: %s: %w", p.Source, err)
		}
		c.Probes = append(c.Probes, p)
	}
	if f.HeadersURL != "" && f.HeadersURLFile != "" {
		return errors.New("config: --headers.url and its _FILE variant are both set; use one")
	}
	if f.HeadersURL != "" || f.HeadersURLFile != "" {
		url, source := f.HeadersURL, "--headers.url"
		if f.HeadersURLFile != "" {
			source = "--headers.url-file"
			b, err := readFile(f.HeadersURLFile, MaxSecretBytes)
			if err != nil {
				return fmt.Errorf("config: %s: %w", source, err)
			}
			if url = strings.TrimSpace(string(b)); url == "" {
				return fmt.Errorf("config: %s: %s is empty", source, dsn.Name(f.HeadersURLFile))
			}
		}
		p := HeaderProbe{ProbeConfig: headers.ProbeConfig{Name: FlagProbeName, URL: url}.WithDefaults(), Source: source}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("config: %s: %w", p.Source, err)
		}
		c.HeaderProbes = append(c.HeaderProbes, p)
	}
	return nil
}

// resolve reads DSN files and checks that names are unique. Target names
// share one namespace across kinds because /probe?target=<name> selects
// one of them.
func (c *Config) resolve() error {
	var errs []error
	seen := map[string]string{}
	for _, list := range [][]Target{c.PgBouncer, c.Postgres} {
		for i := range list {
			t := &list[i]
			if prev, dup := seen[t.Name]; dup {
				errs = append(errs, fmt.Errorf("%s: target name %q is already used at %s", t.Source, t.Name, prev))
			}
			seen[t.Name] = t.Source
			if t.DSNFile != "" {
				b, err := readFile(t.DSNFile, MaxSecretBytes)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: target %q: dsn_file: %w", t.Source, t.Name, err))
					continue
				}
				t.DSN = strings.TrimSpace(string(b))
				if t.DSN == "" {
					errs = append(errs, fmt.Errorf("%s: target %q: dsn_file %s is empty", t.Source, t.Name, dsn.Name(t.DSNFile)))
					continue
				}
			}
			if t.DSN == "" {
				continue // no dsn or dsn_file: the parser said so
			}
			// Both kinds connect with pgx; checking the syntax here makes
			// --config.check and reloads catch a broken DSN.
			if _, err := dsn.Parse(t.Kind, t.DSN); err != nil {
				errs = append(errs, fmt.Errorf("%s: target %q: %w", t.Source, t.Name, err))
			}
		}
	}
	probes := map[string]string{}
	for _, p := range c.Probes {
		if prev, dup := probes[p.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: probe name %q is already used at %s", p.Source, p.Name, prev))
		}
		probes[p.Name] = p.Source
	}
	// Header probes have their own metrics, so their names may repeat an
	// event-loop probe's (both flags name theirs platform).
	headerProbes := map[string]string{}
	for _, p := range c.HeaderProbes {
		if prev, dup := headerProbes[p.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: header probe name %q is already used at %s", p.Source, p.Name, prev))
		}
		headerProbes[p.Name] = p.Source
	}
	return errors.Join(errs...)
}
