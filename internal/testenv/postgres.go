package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresOptions tunes a throwaway PostgreSQL server.
type PostgresOptions struct {
	// Autovacuum turns the autovacuum launcher on; tests that count dead
	// tuples keep it off so the numbers stay put.
	Autovacuum bool
	// MaxConnections is max_connections (default 100).
	MaxConnections int
	// Settings are extra `-c name=value` server settings.
	Settings map[string]string
}

// Postgres is a running throwaway PostgreSQL server.
type Postgres struct {
	service         // state directory (data, socket, log) and the postmaster
	Host     string // always 127.0.0.1
	Port     int
	User     string // superuser name
	Password string // superuser password
	BinDir   string // where initdb/postgres were found (pg_ctl, psql live there too)
	// Version is the server's server_version_num (130023, 180004): tests
	// that differ by version read it, and the matrix logs it.
	Version int
}

// StartPostgres runs initdb in a fresh temporary directory and starts the
// server on a free loopback port with password (SCRAM) authentication.
func StartPostgres(opts PostgresOptions) (*Postgres, error) {
	return withPortRetry(func() (*Postgres, error) { return startPostgresOnce(opts) })
}

func startPostgresOnce(opts PostgresOptions) (*Postgres, error) {
	server, err := LookPath("postgres")
	if err != nil {
		return nil, err
	}
	// initdb must match the server's version: take it from the same place.
	initdb := filepath.Join(filepath.Dir(server), "initdb")
	if _, err := os.Stat(initdb); err != nil {
		return nil, &MissingBinaryError{Name: "initdb", Package: "postgresql"}
	}
	cred, err := unprivileged()
	if err != nil {
		return nil, err
	}
	dir, err := makeDir("", "redline-pg-", cred)
	if err != nil {
		return nil, err
	}
	pg := &Postgres{service: service{Dir: dir}, Host: "127.0.0.1", User: "postgres", Password: randomSecret(), BinDir: filepath.Dir(server)}
	fail := func(err error) (*Postgres, error) {
		pg.Stop()
		return nil, err
	}

	pwfile := filepath.Join(dir, "pwfile")
	if err := writeFile(pwfile, []byte(pg.Password+"\n"), cred); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	initProc, err := startProcess("initdb", initdb, []string{
		"-D", data, "-U", pg.User, "--pwfile", pwfile, "--auth", "scram-sha-256",
		"--encoding", "UTF8", "--locale", "C", "--no-sync",
	}, filepath.Join(dir, "initdb.log"), cred, syscall.SIGTERM)
	if err != nil {
		return fail(err)
	}
	<-initProc.done
	if initProc.waitErr != nil {
		return fail(fmt.Errorf("initdb: %v; log:\n%s", initProc.waitErr, initProc.logTail()))
	}
	os.Remove(pwfile)

	if pg.Port, err = FreePort(); err != nil {
		return fail(err)
	}
	maxConn := opts.MaxConnections
	if maxConn == 0 {
		maxConn = 100
	}
	settings := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"port":                    strconv.Itoa(pg.Port),
		"unix_socket_directories": dir,
		"max_connections":         strconv.Itoa(maxConn),
		"autovacuum":              onOff(opts.Autovacuum),
		// Durability buys nothing in a throwaway server and costs start-up time.
		"fsync":              "off",
		"synchronous_commit": "off",
		"full_page_writes":   "off",
		"shared_buffers":     "32MB",
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	args := []string{"-D", data}
	for _, k := range sortedKeys(settings) {
		args = append(args, "-c", k+"="+settings[k])
	}
	// SIGINT is PostgreSQL's "fast shutdown".
	pg.proc, err = startProcess("postgres", server, args, filepath.Join(dir, "postgres.log"), cred, syscall.SIGINT)
	if err != nil {
		return fail(err)
	}
	if err := pg.proc.waitReady(func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, pg.DSN("postgres"))
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var v string
		if err := conn.QueryRow(ctx, "SHOW server_version_num").Scan(&v); err != nil {
			return err
		}
		pg.Version, err = strconv.Atoi(v)
		return err
	}); err != nil {
		return fail(err)
	}
	return pg, nil
}

// NewPostgres starts PostgreSQL for a test and stops it when the test ends.
func NewPostgres(t testing.TB, opts PostgresOptions) *Postgres {
	t.Helper()
	pg, err := StartPostgres(opts)
	return forTest(t, pg, err)
}

// DSN is a superuser URL for database db.
func (pg *Postgres) DSN(db string) string {
	return pg.DSNFor(pg.User, pg.Password, db)
}

// DSNFor is a URL for any role and database on this server.
func (pg *Postgres) DSNFor(user, password, db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     fmt.Sprintf("%s:%d", pg.Host, pg.Port),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Exec runs SQL statements as the superuser in database db.
func (pg *Postgres) Exec(ctx context.Context, db string, sql ...string) error {
	conn, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// CreateDatabase creates a database owned by the superuser.
func (pg *Postgres) CreateDatabase(ctx context.Context, name string) error {
	return pg.Exec(ctx, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
}

// CreateRole creates a login role with a password and optional extra
// attributes or grants, e.g. CreateRole(ctx, "mon", "pw", "IN ROLE pg_monitor").
func (pg *Postgres) CreateRole(ctx context.Context, name, password string, options ...string) error {
	stmt := fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", pgx.Identifier{name}.Sanitize(), escapeLiteral(password))
	for _, o := range options {
		stmt += " " + o
	}
	return pg.Exec(ctx, "postgres", stmt)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func escapeLiteral(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// randomSecret makes a password for throwaway servers.
func randomSecret() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
