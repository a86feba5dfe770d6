package pgbouncer

import (
	"context"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"
)

// row is one result row keyed by column name. NULL columns are absent, so
// a column that a pgBouncer version lacks and a NULL value look the same to
// the collectors: both are "not known".
type row map[string]string

// int reads an integer column; ok is false when it is absent or not a number.
func (r row) int(col string) (int64, bool) {
	v, present := r[col]
	if !present || v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// float reads a numeric column as float64.
func (r row) float(col string) (float64, bool) {
	n, ok := r.int(col)
	return float64(n), ok
}

// showQuery runs one admin console command with the simple query protocol —
// the only one the console speaks — and returns its rows by column name.
// Every value arrives as text, so a column whose type changes between
// pgBouncer releases still parses.
func showQuery(ctx context.Context, pool *pgxpool.Pool, command string) ([]row, error) {
	rows, _, err := showQueryColumns(ctx, pool, command)
	return rows, err
}

// showQueryColumns is showQuery that also returns the answer's column names.
func showQueryColumns(ctx context.Context, pool *pgxpool.Pool, command string) ([]row, []string, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Release()
	results, err := conn.Conn().PgConn().Exec(ctx, command).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", command, err)
	}
	var rows []row
	var columns []string
	for _, res := range results {
		for _, f := range res.FieldDescriptions {
			columns = append(columns, f.Name)
		}
		for _, values := range res.Rows {
			r := make(row, len(values))
			for i, v := range values {
				if v != nil && i < len(res.FieldDescriptions) {
					r[res.FieldDescriptions[i].Name] = string(v)
				}
			}
			rows = append(rows, r)
		}
	}
	return rows, columns, nil
}

// validLabels reports whether every value can be a label value. Database
// and user names come from pgBouncer's configuration and may be any bytes;
// a row that cannot be labelled is left out rather than making the
// Must* metric constructors panic, which would fail the whole collector.
func validLabels(values ...string) bool {
	for _, v := range values {
		if !utf8.ValidString(v) {
			return false
		}
	}
	return true
}
