// Package dsn turns a connection string's parse error into text that is
// safe to log and return: the reason, never the connection string or its
// password. pgx's own message quotes the connection string and masks the
// password only on a best-effort basis ("password = x" with spaces slips
// through), and net/url's errors quote the whole URL.
package dsn

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Redacted replaces a secret wherever it would show.
const Redacted = "xxxxx"

// Parse parses a DSN of the given kind ("postgres", "pgbouncer") the way
// the targets connect with it, and rejects a URL whose host part still
// holds an '@': pgx, like libpq, ends the user info at the first '@', so
// an unencoded '@' in a password leaves the password's tail in the host
// name, where every connection error would show it. Errors never quote the
// DSN.
func Parse(kind, conn string) (*pgxpool.Config, error) {
	if conn == "" {
		return nil, fmt.Errorf("%s DSN is empty", kind)
	}
	if err := checkFiles(kind, conn); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		if encryptedPKCS8(conn) {
			return nil, fmt.Errorf("%w (sslkey is an encrypted PKCS#8 key, which the driver cannot read: convert it with `openssl pkey -in <key> -out <plain key>`, see docs/exporter.md)", ParseError(kind, err))
		}
		return nil, ParseError(kind, err)
	}
	// The host check below misses a URL whose host comes from ?host= (its
	// authority then ends in '@'): count the '@'s of the authority itself.
	if _, rest, ok := strings.Cut(conn, "://"); ok {
		if end := strings.IndexAny(rest, "/?#"); end >= 0 {
			rest = rest[:end]
		}
		if strings.Count(rest, "@") > 1 {
			return nil, errUnencodedAt(kind)
		}
	}
	hosts := []string{cfg.ConnConfig.Host}
	for _, fb := range cfg.ConnConfig.Fallbacks {
		hosts = append(hosts, fb.Host)
	}
	for _, h := range hosts {
		if strings.Contains(h, "@") {
			return nil, errUnencodedAt(kind)
		}
	}
	return cfg, nil
}

// fileSetting finds a setting of a keyword/value or URL DSN.
func fileSetting(conn, key string) (string, bool) {
	m := regexp.MustCompile(`(?:^|[\s?&])` + key + `\s*=\s*('[^']*'|[^\s&]+)`).FindStringSubmatch(conn)
	if m == nil {
		return "", false
	}
	path := strings.Trim(m[1], "'")
	if strings.Contains(conn, "://") {
		if un, err := url.QueryUnescape(path); err == nil {
			path = un
		}
	}
	return path, true
}

// maxDSNFileBytes bounds a certificate, key or password file of a DSN.
const maxDSNFileBytes = 1 << 20

// fileSettings are the DSN settings (and their environment variables)
// naming files that pgx reads while parsing the DSN.
var fileSettings = map[string]string{"sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "passfile": "PGPASSFILE"}

// checkFiles refuses files the driver would read while parsing that are
// not regular or too large: pgx reads them whole and without a deadline,
// so a FIFO would hang the load (and a check, a start, a reload) and
// /dev/zero would be read until memory ran out. A file that does not
// exist is left to the driver's own error.
func checkFiles(kind, conn string) error {
	for _, key := range slices.Sorted(maps.Keys(fileSettings)) {
		path, ok := fileSetting(conn, key)
		if !ok {
			path = os.Getenv(fileSettings[key])
		}
		if path == "" || (key == "sslrootcert" && path == "system") {
			continue
		}
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			continue
		case !fi.Mode().IsRegular():
			return fmt.Errorf("invalid %s DSN: %s %s is not a regular file", kind, key, Name(path))
		case fi.Size() > maxDSNFileBytes:
			return fmt.Errorf("invalid %s DSN: %s %s is larger than %d bytes", kind, key, Name(path), maxDSNFileBytes)
		}
	}
	return nil
}

// encryptedPKCS8 reports whether the DSN's sslkey file holds an encrypted
// PKCS#8 key, which pgx refuses with "failed to parse private key" alone.
// It reads the first line of the file only.
func encryptedPKCS8(conn string) bool {
	path, ok := fileSetting(conn, "sslkey")
	if !ok {
		path = os.Getenv("PGSSLKEY")
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := io.ReadFull(f, head)
	return strings.HasPrefix(strings.TrimSpace(string(head[:n])), "-----BEGIN ENCRYPTED PRIVATE KEY-----")
}

func errUnencodedAt(kind string) error {
	return fmt.Errorf("invalid %s DSN: the user name or password holds an unencoded '@'; percent-encode it as %%40", kind)
}

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
	return redactAll(text, append(candidates(conn, true), conn))
}

// Name returns s, a name that is not a secret (a file name, a config
// key), with every secret redacted that a DSN or URL pasted in its place
// would hold: the user info of a URL, password=... values, and the bare
// words of a keyword/value string. A plain path comes back unchanged, so
// an error can still say which file it could not read.
func Name(s string) string {
	return redactAll(s, candidates(s, strings.Contains(s, "=")))
}

// candidates lists the password candidates of conn (conn itself not
// included). bareWords adds the words without "=" of a keyword/value
// string.
func candidates(conn string, bareWords bool) []string {
	var secrets []string
	for _, m := range passwordRE.FindAllStringSubmatch(conn, -1) {
		secrets = append(secrets, m[1], strings.Trim(m[1], "'"))
	}
	// A bare word (no "=") in a keyword/value DSN is most likely the rest
	// of an unquoted password with a space in it ("password=my secret"),
	// and pgx's error quotes exactly that word.
	if bareWords && !strings.Contains(conn, "://") {
		for _, w := range strings.Fields(conn) {
			if !strings.Contains(w, "=") {
				secrets = append(secrets, strings.Trim(w, "'"))
			}
		}
	}
	// URL form: the user info runs from "://" to an '@' — the first one
	// for pgx and libpq, the last one for net/url. Every piece of it, split
	// at either, is a secret: parse by hand, url.Parse may be what failed.
	if _, rest, ok := strings.Cut(conn, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			info := rest[:at]
			secrets = append(secrets, info)
			if _, pw, ok := strings.Cut(info, ":"); ok {
				secrets = append(secrets, pw)
			}
			secrets = append(secrets, strings.FieldsFunc(info, func(r rune) bool { return r == '@' || r == ':' })...)
		}
	} else if at := strings.LastIndex(conn, "@"); at >= 0 {
		// user:password@host without a scheme: the user info starts after
		// the last '/' before the '@'.
		info := conn[strings.LastIndex(conn[:at], "/")+1 : at]
		if _, pw, ok := strings.Cut(info, ":"); ok {
			secrets = append(secrets, info, pw)
		}
	}
	for _, s := range slices.Clone(secrets) {
		if un, err := url.PathUnescape(s); err == nil && un != s {
			secrets = append(secrets, un)
		}
	}
	return secrets
}

// redactAll replaces every secret in text.
func redactAll(text string, secrets []string) string {
	// Longest first: a piece redacted before the whole would leave the
	// rest of the whole in the text.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		text = Redact(text, s)
	}
	return text
}

// wholeWordBelow is the secret length under which Redact replaces only
// whole words: a one-letter password must not turn "tcp" into "tcxxxxx"
// (which also tells the reader the password). Longer secrets are replaced
// wherever they occur.
const wholeWordBelow = 6

// Redact replaces secret in text with Redacted. A short secret is replaced
// only where it stands as a word of its own (no letter or digit touching
// either side).
func Redact(text, secret string) string {
	if secret == "" || !strings.Contains(text, secret) {
		return text
	}
	if len(secret) >= wholeWordBelow {
		return strings.ReplaceAll(text, secret, Redacted)
	}
	var b strings.Builder
	for {
		i := strings.Index(text, secret)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		end := i + len(secret)
		if wordChar(text, i-1) || wordChar(text, end) {
			b.WriteString(text[:end])
		} else {
			b.WriteString(text[:i] + Redacted)
		}
		text = text[end:]
	}
}

// wordChar reports whether text[i] exists and is an ASCII letter or digit.
func wordChar(text string, i int) bool {
	if i < 0 || i >= len(text) {
		return false
	}
	c := text[i]
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
