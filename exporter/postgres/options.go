package postgres

import (
	"errors"
	"fmt"
	"time"
)

// Options configure a PostgreSQL target. The zero value of each knob means
// "use the default" (see Defaults).
type Options struct {
	// DSN is a libpq URL or keyword/value string. Its database is the
	// maintenance database: discovery and server-wide signals (connections,
	// clock skew) run there. Its password never appears in errors or logs.
	DSN string
	// Databases limits the per-database signals to these databases. Empty
	// means every database that allows connections, is not a template and
	// that the role may CONNECT to.
	Databases []string
	// TopTables is how many tables per database get per-table dead-tuple
	// series (the ones with the most dead tuples).
	TopTables int
	// TopSequences is how many sequences per database get per-sequence
	// exhaustion series (the ones with the highest used ratio).
	TopSequences int
	// BehindColumnTTL is how long a sequence-behind-column result is served
	// before a scrape starts a background refresh. It also bounds how long
	// one refresh may run.
	BehindColumnTTL time.Duration
	// BehindColumnMaxRuntime caps the column lookups of one behind-column
	// refresh: past it, no new batch starts and the next refresh (one TTL
	// later) resumes where this one stopped. At least one batch runs.
	BehindColumnMaxRuntime time.Duration
	// CacheAbove is the size, in sequences for the sequences collector and
	// in tables for dead_tuples, above which a database's result is served
	// from memory between background refreshes instead of read on every
	// scrape (their cost grows with the catalog).
	CacheAbove int
	// CacheMaxAge bounds how old a cached result may be when served: a
	// sequence moved or a table bloated shows within it. Refreshes start
	// at half of it.
	CacheMaxAge time.Duration
	// MaxConnsPerDatabase caps each database's pool. A connection serves
	// one database, so a target holds up to this many per covered database
	// (plus the maintenance database's pool), not in total.
	MaxConnsPerDatabase int
	// StatementTimeout and LockTimeout are set on every connection
	// (statement_timeout, lock_timeout), so no query of the exporter runs
	// long or waits long behind another session's lock.
	StatementTimeout time.Duration
	LockTimeout      time.Duration
	// ConnectTimeout bounds opening one connection; a connect_timeout in the
	// DSN wins.
	ConnectTimeout time.Duration
}

// Defaults are the values a zero field takes, whether the target comes
// from the config file, a flag or code.
func Defaults() Options {
	return Options{
		TopTables:              50,
		TopSequences:           50,
		BehindColumnTTL:        5 * time.Minute,
		BehindColumnMaxRuntime: 10 * time.Second,
		CacheAbove:             1000,
		CacheMaxAge:            time.Minute,
		MaxConnsPerDatabase:    2,
		StatementTimeout:       5 * time.Second,
		LockTimeout:            time.Second,
		ConnectTimeout:         5 * time.Second,
	}
}

// withDefaults fills the zero fields from Defaults and rejects negative ones.
func (o Options) withDefaults() (Options, error) {
	d := Defaults()
	var errs []error
	intKnob := func(name string, v *int, def int) {
		switch {
		case *v < 0:
			errs = append(errs, fmt.Errorf("%s must not be negative, got %d", name, *v))
		case *v == 0:
			*v = def
		}
	}
	durKnob := func(name string, v *time.Duration, def time.Duration) {
		switch {
		case *v < 0:
			errs = append(errs, fmt.Errorf("%s must not be negative, got %s", name, *v))
		case *v == 0:
			*v = def
		}
	}
	intKnob("top tables", &o.TopTables, d.TopTables)
	intKnob("top sequences", &o.TopSequences, d.TopSequences)
	intKnob("cache above", &o.CacheAbove, d.CacheAbove)
	intKnob("max connections per database", &o.MaxConnsPerDatabase, d.MaxConnsPerDatabase)
	durKnob("behind-column TTL", &o.BehindColumnTTL, d.BehindColumnTTL)
	durKnob("behind-column max runtime", &o.BehindColumnMaxRuntime, d.BehindColumnMaxRuntime)
	durKnob("cache max age", &o.CacheMaxAge, d.CacheMaxAge)
	durKnob("statement timeout", &o.StatementTimeout, d.StatementTimeout)
	durKnob("lock timeout", &o.LockTimeout, d.LockTimeout)
	durKnob("connect timeout", &o.ConnectTimeout, d.ConnectTimeout)
	if o.StatementTimeout < time.Millisecond || o.LockTimeout < time.Millisecond {
		errs = append(errs, errors.New("statement and lock timeouts must be at least 1ms (PostgreSQL counts in milliseconds)"))
	}
	for _, db := range o.Databases {
		if db == "" {
			errs = append(errs, errors.New("databases: empty database name"))
		}
	}
	return o, errors.Join(errs...)
}
