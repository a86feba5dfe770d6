package dsn

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestParseErrorHidesPassword(t *testing.T) {
	const secret = "S3cret"
	for _, tc := range []struct{ dsn, want string }{
		// pgx's own redaction misses the spaces around "=".
		{"host=h password = " + secret + " port=abc", "invalid port"},
		{"host=h password=" + secret + " port=abc", "invalid port"},
		{"host=h password='" + secret + "' sslmode=sometimes", "sslmode is invalid"},
		{"postgres://u:" + secret + "@h:notaport/db", "invalid port"},
		{"postgres://u:" + secret + "%zz@h/db", "failed to parse as URL"},
		{"postgres://u:" + secret + "@h/db?connect_timeout=soon", "connect_timeout"},
	} {
		_, perr := pgconn.ParseConfig(tc.dsn)
		if perr == nil {
			t.Fatalf("%q parsed", tc.dsn)
		}
		err := ParseError("pgbouncer", perr)
		msg := err.Error()
		if strings.Contains(msg, secret) {
			t.Errorf("%q: error leaks the password: %s", tc.dsn, msg)
		}
		if !strings.HasPrefix(msg, "invalid pgbouncer DSN: ") || !strings.Contains(msg, tc.want) {
			t.Errorf("%q: error %q does not say %q", tc.dsn, msg, tc.want)
		}
	}
}

func TestParseErrorOtherErrors(t *testing.T) {
	if got := ParseError("postgres", errors.New("postgres://u:S3cret@h")).Error(); got != "invalid postgres DSN" {
		t.Errorf("non-pgx error: %q", got)
	}
}
