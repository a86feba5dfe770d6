package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// StatementCost is what a role's statements cost the server, from
// pg_stat_statements: cumulative since the server started, so Measure
// takes the difference across the measured scrapes.
type StatementCost struct {
	Exec, Plan time.Duration // total_exec_time, total_plan_time
	Calls      int64
	// Evicted counts the entries pg_stat_statements dropped to make room
	// (pg_stat_statements_info.dealloc): when it moves during a
	// measurement, the figures are a lower bound.
	Evicted int64
}

// Sub is c minus an earlier reading.
func (c StatementCost) Sub(before StatementCost) StatementCost {
	return StatementCost{Exec: c.Exec - before.Exec, Plan: c.Plan - before.Plan,
		Calls: c.Calls - before.Calls, Evicted: c.Evicted - before.Evicted}
}

// StatementSettings are the server settings StatementCounter needs:
// pg_stat_statements loaded, planning counted (the exporters' UNION ALL
// lookups cost more to plan than to run), and room for the distinct
// statements of a 100,000-table run.
var StatementSettings = map[string]string{
	"shared_preload_libraries":          "pg_stat_statements",
	"pg_stat_statements.track":          "all",
	"pg_stat_statements.track_planning": "on",
	"pg_stat_statements.max":            "20000",
}

const statementCostSQL = `
SELECT coalesce(sum(total_exec_time), 0)::float8, coalesce(sum(total_plan_time), 0)::float8,
       coalesce(sum(calls), 0)::int8, (SELECT dealloc FROM pg_stat_statements_info)
FROM pg_stat_statements
WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = $1)`

// StatementCounter returns a reader of the cost of role's statements in
// every database. dsn must reach a database where the pg_stat_statements
// extension is created (see CreateStatementsExtension).
func StatementCounter(dsn, role string) func() (StatementCost, error) {
	return func() (StatementCost, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return StatementCost{}, fmt.Errorf("pg_stat_statements: %w", err)
		}
		defer conn.Close(ctx)
		var exec, plan float64
		var c StatementCost
		if err := conn.QueryRow(ctx, statementCostSQL, role).Scan(&exec, &plan, &c.Calls, &c.Evicted); err != nil {
			return StatementCost{}, fmt.Errorf("pg_stat_statements: %w", err)
		}
		c.Exec = time.Duration(exec * float64(time.Millisecond))
		c.Plan = time.Duration(plan * float64(time.Millisecond))
		return c, nil
	}
}

// CreateStatementsExtension creates pg_stat_statements in the database
// dsn reaches and a superuser role the exporters log in as, so their
// statements can be told apart from the benchmark's own.
func CreateStatementsExtension(ctx context.Context, dsn, role, password string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err != nil {
		return fmt.Errorf("create pg_stat_statements: %w", err)
	}
	// A superuser, as the exporters were measured before: every sequence
	// and statistic is readable.
	sql := fmt.Sprintf("CREATE ROLE %s SUPERUSER LOGIN PASSWORD %s",
		pgx.Identifier{role}.Sanitize(), quoteLiteral(password))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create role %s: %w", role, err)
	}
	return nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}
