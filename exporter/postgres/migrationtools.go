package postgres

import (
	"fmt"
	"hash/crc32"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Migration tools, the values of the tool label.
const (
	toolPrisma        = "prisma"
	toolGolangMigrate = "golang-migrate"
	toolFlyway        = "flyway"
	toolLiquibase     = "liquibase"
	toolAlembic       = "alembic"
	toolRails         = "rails"
)

// migrationTool is what the collector knows about one tool's history table:
// how to recognise it by its columns, how to read it, and how to tell a
// run in progress from a failure.
type migrationTool struct {
	name  string
	table string
	// columns are the columns the reads need, with the types the tool
	// creates them with (format_type without a length). Other columns may
	// exist: tools add some between releases.
	columns map[string][]string
	// readSQL returns one row: applied, failed or unfinished rows, the
	// start times of the unfinished rows (when the tool records them), last
	// applied time (Unix seconds), version. %[1]s is the quoted table.
	readSQL string
	// runLooksFailed says that the migration running now has a row that
	// looks like a failed one (Prisma's unfinished row, golang-migrate's
	// dirty flag): such a row counts as failed only while no run holds the
	// tool's lock, or when it started before the lock holder's session.
	runLooksFailed bool
	// lockKeys are the advisory-lock keys the tool takes while it runs,
	// for the table t in database datname; nil when it takes none.
	lockKeys func(datname string, t migrationTable) []int64
	// hasFailed and hasTimestamp say whether the tool's table can record a
	// failure or an applied time at all; a series it cannot fill is left
	// out rather than sent as a constant 0.
	hasFailed, hasTimestamp bool
}

var (
	varchar     = []string{"character varying", "text"}
	timestamptz = []string{"timestamp with time zone"}
	timestamp   = []string{"timestamp without time zone", "timestamp with time zone"}
	integer     = []string{"integer", "bigint"}
	boolean     = []string{"boolean"}
)

// migrationTools are checked in order; two share the table name
// schema_migrations and are told apart by its columns.
var migrationTools = []*migrationTool{
	{
		// prisma-engines, sql-schema-connector, create_migrations_table.
		// A migration is inserted with started_at when it begins and gets
		// finished_at when it succeeds; a failure leaves finished_at NULL
		// (and its error in logs, never read here) until `migrate resolve`
		// sets rolled_back_at or finished_at.
		name: toolPrisma, table: "_prisma_migrations",
		columns: map[string][]string{
			"id": varchar, "checksum": varchar, "finished_at": timestamptz, "migration_name": varchar,
			"rolled_back_at": timestamptz, "started_at": timestamptz, "applied_steps_count": integer,
		},
		readSQL: `
SELECT count(*) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL),
       count(*) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL),
       array_agg(started_at) FILTER (WHERE finished_at IS NULL AND rolled_back_at IS NULL AND started_at IS NOT NULL),
       extract(epoch FROM max(finished_at) FILTER (WHERE rolled_back_at IS NULL))::float8,
       (SELECT migration_name::text FROM %[1]s
        WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL AND migration_name <> ''
        ORDER BY migration_name DESC LIMIT 1)
FROM %[1]s`,
		// schema-engine, flavour/postgres.rs acquire_lock: a fixed key
		// for every database.
		lockKeys:  func(string, migrationTable) []int64 { return []int64{72707369} },
		hasFailed: true, hasTimestamp: true, runLooksFailed: true,
	},
	{
		// golang-migrate database/postgres: one row, the current version;
		// dirty is set before a migration runs and cleared after it
		// succeeded, so a dirty row is a run in progress or a failure.
		name: toolGolangMigrate, table: "schema_migrations",
		columns: map[string][]string{"version": {"bigint"}, "dirty": boolean},
		readSQL: `
SELECT count(*) FILTER (WHERE NOT dirty), count(*) FILTER (WHERE dirty), NULL::timestamptz[], NULL::float8,
       (SELECT version::text FROM %[1]s WHERE version IS NOT NULL ORDER BY version DESC LIMIT 1)
FROM %[1]s`,
		lockKeys:  golangMigrateLockKeys,
		hasFailed: true, runLooksFailed: true,
	},
	{
		// Rails: one row per applied version, in a transaction with the
		// migration on PostgreSQL, so a failure leaves no row.
		name: toolRails, table: "schema_migrations",
		columns: map[string][]string{"version": varchar},
		readSQL: `
SELECT count(*) FILTER (WHERE version <> ''), 0::int8, NULL::timestamptz[], NULL::float8,
       max(version) FILTER (WHERE version <> '')::text
FROM %[1]s`,
		lockKeys: func(datname string, _ migrationTable) []int64 {
			// ActiveRecord::Migrator MIGRATOR_SALT times the CRC-32 of
			// the database name; below 2^63.
			return []int64{2053462845 * int64(crc32.ChecksumIEEE([]byte(datname)))}
		},
	},
	{
		// Flyway's PostgreSQL createMetaDataTable.sql. A failed migration
		// is recorded with success = false where it cannot be rolled back
		// (a script run outside a transaction); a transactional one rolls
		// back and leaves no row.
		name: toolFlyway, table: "flyway_schema_history",
		columns: map[string][]string{
			"installed_rank": integer, "version": varchar, "description": varchar, "type": varchar,
			"script": varchar, "installed_on": timestamp, "success": boolean,
		},
		readSQL: `
SELECT count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success), NULL::timestamptz[],
       extract(epoch FROM (max(installed_on) FILTER (WHERE success))::timestamptz)::float8,
       (SELECT version::text FROM %[1]s WHERE success AND version <> '' ORDER BY installed_rank DESC NULLS LAST LIMIT 1)
FROM %[1]s`,
		lockKeys:  flywayLockKeys,
		hasFailed: true, hasTimestamp: true,
	},
	{
		// Liquibase's databasechangelog. Its FAILED exec type is never
		// written: MarkChangeSetRanGenerator skips FAILED and SKIPPED, and a
		// failing changeset rolls back and throws. A FAILED or SKIPPED row
		// written by hand or another tool is not applied: it neither counts
		// nor names the version. Progress is the
		// databasechangeloglock row (read separately).
		name: toolLiquibase, table: "databasechangelog",
		columns: map[string][]string{
			"id": varchar, "author": varchar, "filename": varchar, "dateexecuted": timestamp,
			"orderexecuted": integer, "exectype": varchar,
		},
		readSQL: `
SELECT count(*) FILTER (WHERE exectype IN ('EXECUTED', 'RERAN', 'MARK_RAN')), 0::int8, NULL::timestamptz[],
       extract(epoch FROM max(dateexecuted) FILTER (WHERE exectype IN ('EXECUTED', 'RERAN', 'MARK_RAN'))::timestamptz)::float8,
       (SELECT id::text FROM %[1]s WHERE exectype IN ('EXECUTED', 'RERAN', 'MARK_RAN') AND id <> ''
        ORDER BY orderexecuted DESC NULLS LAST LIMIT 1)
FROM %[1]s`,
		hasTimestamp: true,
	},
	{
		// Alembic's version table holds the current head(s); a failed
		// upgrade rolls back with its transaction on PostgreSQL. An empty
		// version_num is no head (NULL and '' mean nothing recorded).
		name: toolAlembic, table: "alembic_version",
		columns: map[string][]string{"version_num": varchar},
		readSQL: `
SELECT count(*) FILTER (WHERE version_num <> ''), 0::int8, NULL::timestamptz[], NULL::float8,
       string_agg(version_num::text, ',' ORDER BY version_num) FILTER (WHERE version_num <> '')
FROM %[1]s`,
	},
}

// liquibaseLock is Liquibase's lock table, read with its changelog.
var liquibaseLock = struct {
	table   string
	columns map[string][]string
	readSQL string
}{
	table:   "databasechangeloglock",
	columns: map[string][]string{"id": integer, "locked": boolean, "lockgranted": timestamp},
	readSQL: `SELECT count(*) FILTER (WHERE locked) FROM %s`,
}

// migrationTableNames are the names the catalog is searched for.
func migrationTableNames() []string {
	seen := map[string]bool{liquibaseLock.table: true}
	names := []string{liquibaseLock.table}
	for _, t := range migrationTools {
		if !seen[t.table] {
			seen[t.table] = true
			names = append(names, t.table)
		}
	}
	return names
}

// recognise returns the tool whose table t is, or nil when t has a tool's
// table name but not its columns.
func recognise(t migrationTable) *migrationTool {
	for _, tool := range migrationTools {
		if tool.table == t.name && hasColumns(t.columns, tool.columns) {
			return tool
		}
	}
	return nil
}

// hasColumns reports whether every wanted column exists with one of its
// types. A golang-migrate table (version bigint, dirty) does not pass as
// Rails's (version varchar), nor the other way round.
func hasColumns(have map[string]string, want map[string][]string) bool {
	for col, types := range want {
		got, ok := have[col]
		if !ok {
			return false
		}
		found := false
		for _, ty := range types {
			if got == ty {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// golangMigrateLockKeys are golang-migrate's advisory-lock keys for the
// table: CRC-32 of the database, schema and table names joined by NUL,
// times a salt, in 32 bits (database.GenerateAdvisoryLockId). Releases
// before 4.15 hashed the database and schema only, older ones the
// database alone; all three are checked.
func golangMigrateLockKeys(datname string, t migrationTable) []int64 {
	key := func(parts ...string) int64 {
		return int64(crc32.ChecksumIEEE([]byte(strings.Join(parts, "\x00"))) * 1486364155)
	}
	return []int64{key(datname, t.schema, t.name), key(datname, t.schema), key(datname)}
}

// flywayLockKeys is Flyway's PostgreSQL advisory-lock key for the table: a
// magic number plus Java's String.hashCode of the quoted
// "schema"."table" (PostgreSQLAdvisoryLockTemplate).
func flywayLockKeys(_ string, t migrationTable) []int64 {
	quoted := `"` + strings.ReplaceAll(t.schema, `"`, `""`) + `"."` + strings.ReplaceAll(t.name, `"`, `""`) + `"`
	return []int64{77431708279161 + int64(javaStringHash(quoted))}
}

// javaStringHash is java.lang.String.hashCode: over UTF-16 code units.
func javaStringHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// migrationTable is one table found under a tool's name.
type migrationTable struct {
	oid          uint32
	schema, name string
	columns      map[string]string // name → format_type without a length
}

func (t migrationTable) quoted() string { return pgx.Identifier{t.schema, t.name}.Sanitize() }

// migrationRead is one history table's content.
type migrationRead struct {
	applied, unfinished int64
	unfinishedStarts    []time.Time
	lastApplied         *float64
	version             *string
}

func (tool *migrationTool) query(t migrationTable) string {
	return fmt.Sprintf(tool.readSQL, t.quoted())
}
