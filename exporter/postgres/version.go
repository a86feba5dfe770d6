package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// serverMajor is the PostgreSQL major version a connection talks to. The
// server sends server_version in its startup reply, so reading it costs no
// round trip and is decided once per connection: a failover to a server of
// another version gets the other version's queries with its first
// connection. Only when the string is not a plain version (a fork's own
// spelling) is server_version_num asked for.
func serverMajor(ctx context.Context, conn *pgxpool.Conn) (int, error) {
	if major, ok := parseMajor(conn.Conn().PgConn().ParameterStatus("server_version")); ok {
		return major, nil
	}
	var num string
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num')").Scan(&num); err != nil {
		return 0, fmt.Errorf("server version: %w", err)
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 100000 {
		return 0, fmt.Errorf("server version: server_version_num %q is not a PostgreSQL 10+ version", num)
	}
	return n / 10000, nil
}

// parseMajor reads the major version from server_version: "13.23",
// "17.2 (Debian 17.2-1.pgdg120+1)", "18beta1", "19devel".
func parseMajor(v string) (int, bool) {
	end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(v)
	}
	major, err := strconv.Atoi(v[:end])
	if err != nil || major < 10 {
		return 0, false
	}
	return major, true
}
