package postgres

import (
	"github.com/redline-sre/redline/exporter/dsn"
)

// scrubber removes the password from error text before it is logged or
// returned. pgx's connect errors name the user, database and address but not
// the password; scrubbing is the last line of defence should a future
// driver version or a server message quote it.
type scrubber struct{ password string }

func (s scrubber) error(err error) error {
	if err == nil {
		return nil
	}
	msg := dsn.Redact(err.Error(), s.password)
	if msg == err.Error() {
		return err
	}
	return scrubbedError{msg: msg, err: err}
}

// scrubbedError keeps the chain for errors.Is/As while its text is clean.
type scrubbedError struct {
	msg string
	err error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.err }
