package dsn

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
		// An unquoted password with a space: pgx quotes its second word.
		{"host=h password=my" + secret + " " + secret + "x port=5432", `missing "="`},
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

func TestRedactShortSecretOnlyAsAWord(t *testing.T) {
	for _, tc := range []struct{ text, secret, want string }{
		{`dial tcp 127.0.0.1:5432: user "p" password=p`, "p", `dial tcp 127.0.0.1:5432: user "xxxxx" password=xxxxx`},
		{"database=postgres", "p", "database=postgres"},
		{"p", "p", "xxxxx"},
		{"the S3cretive S3cret", "S3cret", "the xxxxxive xxxxx"}, // long secrets go everywhere
		{"nothing here", "", "nothing here"},
	} {
		if got := Redact(tc.text, tc.secret); got != tc.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", tc.text, tc.secret, got, tc.want)
		}
	}
}

// pgx, like libpq, ends the user info at the first '@': an unencoded '@' in
// a password leaves its tail in the host name, which every connection error
// would then print. Such a DSN is refused, without quoting any of it.
func TestParseRefusesAtInHost(t *testing.T) {
	for _, conn := range []string{
		"postgres://redline_exporter:ab@cdLeak@127.0.0.1:5432/postgres",
		"postgresql://u:p@cdLeak@h1:5432,h2:5433/db",
	} {
		_, err := Parse("postgres", conn)
		if err == nil {
			t.Errorf("%q: accepted", conn)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "%40") || !strings.HasPrefix(msg, "invalid postgres DSN: ") {
			t.Errorf("%q: error %q does not say to percent-encode the '@'", conn, msg)
		}
		if strings.Contains(msg, "cdLeak") || strings.Contains(msg, "127.0.0.1") || strings.Contains(msg, "h1") {
			t.Errorf("%q: error quotes the DSN: %s", conn, msg)
		}
	}
	if _, err := Parse("postgres", "postgres://u:ab%40cdLeak@127.0.0.1:5432/postgres"); err != nil {
		t.Errorf("an encoded '@' is refused: %v", err)
	}
	// A keyword/value DSN has no user info to misread.
	if _, err := Parse("pgbouncer", "host=127.0.0.1 user=u password=ab@cd dbname=pgbouncer"); err != nil {
		t.Errorf("keyword/value DSN with '@' in the password: %v", err)
	}
}

// A DSN or URL where a name belongs keeps its password out; a plain path
// comes back whole.
func TestName(t *testing.T) {
	const secret = "S3cretPw"
	for _, tc := range []struct{ in, want string }{
		{"/run/secrets/pg-dsn", "/run/secrets/pg-dsn"},
		{"./dsn file.txt", "./dsn file.txt"},
		{"postgres://u:" + secret + "@h:5432/db", "postgres://xxxxx@h:5432/db"},
		{"postgres://u:" + secret + "@h/db?password=" + secret, "postgres://xxxxx@h/db?password=xxxxx"},
		{"host=h password=" + secret + " dbname=x", "host=h password=xxxxx dbname=x"},
		{"host=h password=my " + secret + " dbname=x", "host=h password=xxxxx xxxxx dbname=x"},
		{"u:" + secret + "@h/db", "xxxxx@h/db"},
		{"u:pw@h", "xxxxx@h"},
	} {
		if got := Name(tc.in); got != tc.want || strings.Contains(got, secret) {
			t.Errorf("Name(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The ?host= form kept an unencoded '@' out of the host, so the check that
// refuses it elsewhere let it pass.
func TestParseRefusesUnencodedAtWithHostParameter(t *testing.T) {
	for _, conn := range []string{
		"postgres://u:ab@cd@/db?host=127.0.0.1",
		"postgres://u:ab@cd@?host=/tmp",
		"postgresql://u:ab@cd@127.0.0.1/db",
	} {
		if _, err := Parse("postgres", conn); err == nil || !strings.Contains(err.Error(), "percent-encode it as %40") || strings.Contains(err.Error(), "cd") {
			t.Errorf("%q: %v", conn, err)
		}
	}
	if _, err := Parse("postgres", "postgres://u:ab%40cd@/db?host=127.0.0.1"); err != nil {
		t.Errorf("encoded '@': %v", err)
	}
}

// pgx refuses an encrypted PKCS#8 client key with "failed to parse private
// key"; the error says what the key is and how to convert it.
func TestEncryptedPKCS8KeyIsExplained(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "client.key")
	if err := os.WriteFile(key, []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(dir, "client.crt")
	if err := os.WriteFile(cert, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, conn := range []string{
		"host=127.0.0.1 sslmode=require sslcert=" + cert + " sslkey=" + key + " sslpassword=Pw0rdSecret",
		"postgres://u:Pw0rdSecret@127.0.0.1/db?sslmode=require&sslcert=" + cert + "&sslkey=" + key,
	} {
		_, err := Parse("postgres", conn)
		if err == nil || !strings.Contains(err.Error(), "encrypted PKCS#8 key") || !strings.Contains(err.Error(), "openssl pkey") || strings.Contains(err.Error(), "Pw0rdSecret") {
			t.Errorf("%q: %v", conn, err)
		}
	}
}

// pgx reads a DSN's certificate, key and password files whole while
// parsing: a FIFO hung the load and /dev/zero would be read until memory
// ran out. Both are refused before pgx opens them.
func TestDSNFilesMustBeRegular(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, conn := range []string{
		"host=127.0.0.1 sslmode=verify-full sslrootcert=" + fifo,
		"postgres://u:pw@127.0.0.1/db?sslmode=require&sslcert=/dev/zero&sslkey=/dev/zero",
		"host=127.0.0.1 passfile=" + fifo,
	} {
		done := make(chan error, 1)
		go func() { _, err := Parse("postgres", conn); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "is not a regular file") {
				t.Errorf("%q: %v", conn, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: Parse blocked", conn)
		}
	}
}
