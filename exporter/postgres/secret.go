package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// redacted replaces the password wherever it would show.
const redacted = "xxxxx"

// dsnError explains why a DSN does not parse without echoing it: pgx's own
// message quotes the connection string and only masks the password on a
// best-effort basis, and net/url's errors quote the whole URL.
func dsnError(err error) error {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return errors.New("invalid postgres DSN")
	}
	reason := "cannot be parsed"
	// The message pgx wraps around the inner error follows the quoted
	// connection string: "cannot parse `<dsn>`: <message> (<inner>)".
	if msg := pce.Error(); strings.Contains(msg, "`: ") {
		reason = msg[strings.LastIndex(msg, "`: ")+3:]
		if inner := pce.Unwrap(); inner != nil {
			reason = strings.TrimSuffix(reason, " ("+inner.Error()+")")
		}
	}
	if inner := pce.Unwrap(); inner != nil {
		var ue *url.Error
		if errors.As(inner, &ue) {
			inner = ue.Err
		}
		reason += ": " + inner.Error()
	}
	if pce.ConnString != "" {
		reason = strings.ReplaceAll(reason, pce.ConnString, redacted)
	}
	return fmt.Errorf("invalid postgres DSN: %s", reason)
}

// scrubber removes the password from error text before it is logged or
// returned. pgx's connect errors name the user, database and address but not
// the password; scrubbing is the last line of defence should a future
// driver version or a server message quote it.
type scrubber struct{ password string }

func (s scrubber) error(err error) error {
	if err == nil || s.password == "" || !strings.Contains(err.Error(), s.password) {
		return err
	}
	return scrubbedError{msg: strings.ReplaceAll(err.Error(), s.password, redacted), err: err}
}

// scrubbedError keeps the chain for errors.Is/As while its text is clean.
type scrubbedError struct {
	msg string
	err error
}

func (e scrubbedError) Error() string { return e.msg }
func (e scrubbedError) Unwrap() error { return e.err }
