package testenv

import (
	"sync"
	"testing"
)

// SharedPostgres is one PostgreSQL for a whole test package, started by the
// first test that asks for it: initdb is the slow part of an environment.
// The package's TestMain stops it after m.Run.
type SharedPostgres struct {
	Options PostgresOptions
	once    sync.Once
	pg      *Postgres
	err     error
}

// Get returns the shared server, starting it on first use. A start failure
// ends the calling test as a missing binary or an error does in NewPostgres.
func (s *SharedPostgres) Get(t testing.TB) *Postgres {
	t.Helper()
	s.once.Do(func() { s.pg, s.err = StartPostgres(s.Options) })
	if s.err != nil {
		missing(t, s.err)
	}
	return s.pg
}

// Stop stops the server if it was started.
func (s *SharedPostgres) Stop() {
	if s.pg != nil {
		_ = s.pg.Stop()
	}
}
