package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PgBouncerDatabase is one entry of pgBouncer's [databases] section.
type PgBouncerDatabase struct {
	Name     string // name clients connect to
	DBName   string // database on the server (default Name)
	PoolSize int    // per-database pool_size (0: default_pool_size)
}

// PgBouncerOptions tunes a throwaway pgBouncer.
type PgBouncerOptions struct {
	PoolMode        string // session | transaction (default) | statement
	DefaultPoolSize int    // default_pool_size (default 5)
	ReservePoolSize int    // reserve_pool_size (default 0)
	MaxClientConn   int    // max_client_conn (default 100)
	// Databases lists the pools' databases; when empty every database is
	// reachable through a "*" wildcard entry.
	Databases []PgBouncerDatabase
	// Users are application logins (name → password) pgBouncer accepts and
	// passes on to PostgreSQL, where they must exist with the same password.
	// The PostgreSQL superuser is always included.
	Users map[string]string
	// Settings are extra [pgbouncer] settings.
	Settings map[string]string
}

// PgBouncer is a running throwaway pgBouncer in front of a Postgres.
type PgBouncer struct {
	service
	Host          string
	Port          int
	AdminUser     string // in admin_users: may run any console command
	AdminPassword string
	StatsUser     string // in stats_users: read-only SHOW commands
	StatsPassword string
	Version       string // as reported by SHOW VERSION
	configPath    string
}

// StartPgBouncer starts pgBouncer on a free loopback port in front of pg.
func StartPgBouncer(pg *Postgres, opts PgBouncerOptions) (*PgBouncer, error) {
	return withPortRetry(func() (*PgBouncer, error) { return startPgBouncerOnce(pg, opts) })
}

func startPgBouncerOnce(pg *Postgres, opts PgBouncerOptions) (*PgBouncer, error) {
	bin, err := LookPath("pgbouncer")
	if err != nil {
		return nil, err
	}
	cred, err := unprivileged()
	if err != nil {
		return nil, err
	}
	dir, err := makeDir("", "redline-pgbouncer-", cred)
	if err != nil {
		return nil, err
	}
	b := &PgBouncer{
		service: service{Dir: dir}, Host: "127.0.0.1",
		AdminUser: "redline_admin", AdminPassword: randomSecret(),
		StatsUser: "redline_stats", StatsPassword: randomSecret(),
	}
	if b.Port, err = FreePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	users := map[string]string{pg.User: pg.Password, b.AdminUser: b.AdminPassword, b.StatsUser: b.StatsPassword}
	for u, p := range opts.Users {
		users[u] = p
	}
	var userlist strings.Builder
	for _, u := range sortedKeys(users) {
		fmt.Fprintf(&userlist, "%q %q\n", u, users[u])
	}
	authFile := filepath.Join(dir, "userlist.txt")
	if err := writeFile(authFile, []byte(userlist.String()), cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	var ini strings.Builder
	ini.WriteString("[databases]\n")
	server := fmt.Sprintf("host=%s port=%d", pg.Host, pg.Port)
	if len(opts.Databases) == 0 {
		fmt.Fprintf(&ini, "* = %s\n", server)
	}
	for _, d := range opts.Databases {
		line := fmt.Sprintf("%s = %s dbname=%s", d.Name, server, firstNonEmpty(d.DBName, d.Name))
		if d.PoolSize > 0 {
			line += " pool_size=" + strconv.Itoa(d.PoolSize)
		}
		ini.WriteString(line + "\n")
	}
	settings := map[string]string{
		"listen_addr":               "127.0.0.1",
		"listen_port":               strconv.Itoa(b.Port),
		"unix_socket_dir":           dir,
		"auth_type":                 "scram-sha-256",
		"auth_file":                 authFile,
		"admin_users":               b.AdminUser,
		"stats_users":               b.StatsUser,
		"pool_mode":                 firstNonEmpty(opts.PoolMode, "transaction"),
		"default_pool_size":         strconv.Itoa(orDefault(opts.DefaultPoolSize, 5)),
		"reserve_pool_size":         strconv.Itoa(opts.ReservePoolSize),
		"max_client_conn":           strconv.Itoa(orDefault(opts.MaxClientConn, 100)),
		"ignore_startup_parameters": "extra_float_digits",
		"logfile":                   filepath.Join(dir, "pgbouncer.log"),
		"pidfile":                   filepath.Join(dir, "pgbouncer.pid"),
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	ini.WriteString("[pgbouncer]\n")
	keys := sortedKeys(settings)
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&ini, "%s = %s\n", k, settings[k])
	}
	b.configPath = filepath.Join(dir, "pgbouncer.ini")
	if err := writeFile(b.configPath, []byte(ini.String()), cred); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	b.proc, err = startProcess("pgbouncer", bin, []string{b.configPath}, filepath.Join(dir, "stdout.log"), cred, syscall.SIGTERM)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := b.proc.waitReady(func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, b.AdminDSN())
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		return conn.QueryRow(ctx, "SHOW VERSION").Scan(&b.Version)
	}); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

// NewPgBouncer starts pgBouncer for a test and stops it when the test ends.
func NewPgBouncer(t testing.TB, pg *Postgres, opts PgBouncerOptions) *PgBouncer {
	t.Helper()
	b, err := StartPgBouncer(pg, opts)
	return forTest(t, b, err)
}

// DSN is a URL for an application connection through pgBouncer. The admin
// console speaks only the simple query protocol, and transaction pooling
// forbids server-side prepared statements, so the URL asks pgx for simple
// protocol.
func (b *PgBouncer) DSN(user, password, db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     fmt.Sprintf("%s:%d", b.Host, b.Port),
		Path:     "/" + db,
		RawQuery: "sslmode=disable&default_query_exec_mode=simple_protocol",
	}
	return u.String()
}

// AdminDSN is a URL for the admin console (database "pgbouncer") as an admin user.
func (b *PgBouncer) AdminDSN() string { return b.DSN(b.AdminUser, b.AdminPassword, "pgbouncer") }

// StatsDSN is a URL for the admin console as a stats-only user.
func (b *PgBouncer) StatsDSN() string { return b.DSN(b.StatsUser, b.StatsPassword, "pgbouncer") }

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}
