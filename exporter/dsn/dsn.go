// Package dsn turns a connection string's parse error into text that is
// safe to log and return: the reason, never the connection string or its
// password. pgx's own message quotes the connection string and masks the
// password only on a best-effort basis ("password = x" with spaces slips
// through), and net/url's errors quote the whole URL.
package dsn

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Redacted replaces a secret wherever it would show.
const Redacted = "xxxxx"

// ParseError explains why a DSN of the given kind ("postgres",
// "pgbouncer") does not parse without echoing it.
func ParseError(kind string, err error) error {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return fmt.Errorf("invalid %s DSN", kind)
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
	return fmt.Errorf("invalid %s DSN: %s", kind, scrub(reason, pce.ConnString))
}

// passwordRE finds the password of a keyword/value DSN, spaces around "="
// allowed, quoted or not.
var passwordRE = regexp.MustCompile(`(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// scrub removes the connection string and every password candidate in it
// from text: the reason should not quote them, this makes sure.
func scrub(text, conn string) string {
	if conn == "" {
		return text
	}
	secrets := []string{conn}
	for _, m := range passwordRE.FindAllStringSubmatch(conn, -1) {
		secrets = append(secrets, m[1], strings.Trim(m[1], "'"))
	}
	// URL form: the password sits between the first ':' after "://" and
	// the last '@' before the host; parse by hand, url.Parse may be what
	// failed.
	if _, rest, ok := strings.Cut(conn, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				secrets = append(secrets, pw)
				if un, err := url.PathUnescape(pw); err == nil {
					secrets = append(secrets, un)
				}
			}
		}
	}
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, Redacted)
		}
	}
	return text
}
