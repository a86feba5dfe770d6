package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	migrationLabels       = []string{"datname", "schemaname", "tool"}
	migrationsAppliedDesc = prometheus.NewDesc("pg_schema_migrations_applied",
		"Migrations the tool's history table records as applied. golang-migrate and Alembic keep only the current version: 1 when one is recorded (and, for golang-migrate, not dirty).",
		migrationLabels, nil)
	migrationsFailedDesc = prometheus.NewDesc("pg_schema_migrations_failed",
		"Migrations recorded as failed that no session is running now: Prisma rows without finished_at or rolled_back_at, a dirty golang-migrate version, Flyway rows with success = false. Only for the tools whose table can record a failure.",
		migrationLabels, nil)
	dbMigrationsFailedDesc = prometheus.NewDesc("pg_database_schema_migrations_failed",
		"Failed migrations (as pg_schema_migrations_failed) over every migration table of the database; 0 when it has none, so that no failure reads 0 rather than nothing. Absent while a table that can record a failure is unreadable.",
		[]string{"datname"}, nil)
	migrationsInProgressDesc = prometheus.NewDesc("pg_schema_migrations_in_progress",
		"1 while a migration run holds the tool's lock: its advisory lock held by another session (Prisma, golang-migrate, Flyway, Rails) or a locked databasechangeloglock row (Liquibase); 0 otherwise. Absent for tools without a lock (Alembic).",
		migrationLabels, nil)
	migrationLastAppliedDesc = prometheus.NewDesc("pg_schema_migration_last_applied_timestamp_seconds",
		"Unix time of the newest applied migration, for the tools that record one (Prisma, Flyway, Liquibase).",
		migrationLabels, nil)
	migrationInfoDesc = prometheus.NewDesc("pg_schema_migration_info",
		"The newest applied migration (Prisma name, golang-migrate or Rails version, Flyway version, Liquibase changeset id, Alembic heads), always 1. A dirty golang-migrate version is the one that runs or failed.",
		[]string{"datname", "schemaname", "tool", "version"}, nil)
	migrationRecognizedDesc = prometheus.NewDesc("pg_schema_migration_table_recognized",
		"1 when a table named like a migration tool's history table has that tool's columns and is read, 0 when it does not (another program's table of the same name); the tool series are sent only for recognised tables.",
		[]string{"datname", "schemaname", "table"}, nil)
	migrationReadableDesc = prometheus.NewDesc("pg_schema_migration_table_readable",
		"1 when the recognised migration table was read this scrape, 0 when it could not be: another session holds a lock that blocks reading it (a running migration's ALTER or LOCK TABLE), or the role lacks SELECT.",
		[]string{"datname", "schemaname", "table"}, nil)
)

func init() {
	Collectors.Register("migrations", "Schema migration state from Prisma, golang-migrate, Flyway, Liquibase, Alembic and Rails history tables", collectMigrations)
}

// migrationCatalogTTL is how long a database's list of migration tables is
// reused. A new tool's first table shows up within it; a dropped table
// fails its read and clears the cache at once.
const migrationCatalogTTL = time.Minute

// migrationTablesSQL finds the candidate tables by name through the
// catalog's (relname, relnamespace) index, with their columns' types.
// Other sessions' temporary tables cannot be read and are left out.
const migrationTablesSQL = `
SELECT c.oid, n.nspname, c.relname,
       array_agg(a.attname::text ORDER BY a.attnum),
       array_agg(format_type(a.atttypid, NULL) ORDER BY a.attnum)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relname = ANY($1::name[]) AND c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
GROUP BY c.oid, n.nspname, c.relname
ORDER BY n.nspname, c.relname`

// migrationLocksSQL reads, in one statement, which of the tools' advisory
// keys other sessions of this database hold (with the holder's session
// start, when the role may see it) and which of the tables another session
// holds or waits for in ACCESS EXCLUSIVE mode, which would block the read.
// A key of pg_advisory_lock(bigint) is split into classid (high half) and
// objid (low half), with objsubid 1.
const migrationLocksSQL = `
WITH here AS (SELECT oid FROM pg_database WHERE datname = current_database())
SELECT 'advisory', (l.classid::int8 << 32) | l.objid::int8, min(a.backend_start)
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM here)
  AND ((l.classid::int8 << 32) | l.objid::int8) = ANY($1::int8[])
GROUP BY 2
UNION ALL
SELECT DISTINCT 'relation', l.relation::int8, NULL::timestamptz
FROM pg_locks l
WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM here) AND l.relation = ANY($2::oid[])`

// maxVersionLabel bounds the version label: a Liquibase changeset id or a
// Prisma migration name is free text.
const maxVersionLabel = 128

// migrationCatalog caches a database's migration tables.
type migrationCatalog struct {
	mu     sync.Mutex
	tables []migrationTable
	loaded time.Time
}

func (c *migrationCatalog) current(ctx context.Context, db *database) ([]migrationTable, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tables != nil && time.Since(c.loaded) < migrationCatalogTTL {
		return c.tables, nil
	}
	rows, err := db.pool.Query(ctx, migrationTablesSQL, migrationTableNames())
	if err != nil {
		return nil, fmt.Errorf("migration tables: %w", err)
	}
	tables := []migrationTable{}
	var (
		t            migrationTable
		names, types []string
	)
	_, err = pgx.ForEachRow(rows, []any{&t.oid, &t.schema, &t.name, &names, &types}, func() error {
		cols := make(map[string]string, len(names))
		for i, n := range names {
			cols[n] = types[i]
		}
		tables = append(tables, migrationTable{oid: t.oid, schema: t.schema, name: t.name, columns: cols})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migration tables: %w", err)
	}
	c.tables, c.loaded = tables, time.Now()
	return tables, nil
}

func (c *migrationCatalog) invalidate() {
	c.mu.Lock()
	c.tables = nil
	c.mu.Unlock()
}

// migrationLocks is what migrationLocksSQL found.
type migrationLocks struct {
	// held maps an advisory key to the earliest session start of its
	// holders (nil when the role may not see it).
	held    map[int64]*time.Time
	blocked map[uint32]bool
}

func collectMigrations(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	return s.eachDatabase(ctx, func(ctx context.Context, db *database) error {
		return collectDatabaseMigrations(ctx, db, ch)
	})
}

// recognisedTable is a candidate table with its tool (nil: unrecognised).
type recognisedTable struct {
	migrationTable
	tool *migrationTool
}

func collectDatabaseMigrations(ctx context.Context, db *database, ch chan<- prometheus.Metric) error {
	tables, err := db.migrations.current(ctx, db)
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		ch <- prometheus.MustNewConstMetric(dbMigrationsFailedDesc, prometheus.GaugeValue, 0, db.name)
		return nil
	}
	var (
		found   []recognisedTable
		lockTab = map[string]migrationTable{} // schema → Liquibase lock table
		keys    []int64
		relOIDs []uint32
	)
	for _, t := range tables {
		if t.name == liquibaseLock.table {
			if hasColumns(t.columns, liquibaseLock.columns) {
				lockTab[t.schema] = t
				relOIDs = append(relOIDs, t.oid)
			}
			continue
		}
		tool := recognise(t)
		found = append(found, recognisedTable{migrationTable: t, tool: tool})
		if tool == nil {
			continue
		}
		relOIDs = append(relOIDs, t.oid)
		if tool.lockKeys != nil {
			keys = append(keys, tool.lockKeys(db.name, t)...)
		}
	}
	// A lock table without its changelog is Liquibase's too, but there is
	// nothing to label it with but the lock: report it as unrecognised.
	for schema, t := range lockTab {
		if !hasChangelog(found, schema) {
			found = append(found, recognisedTable{migrationTable: t})
			delete(lockTab, schema)
		}
	}

	locks, err := readMigrationLocks(ctx, db, keys, relOIDs)
	if err != nil {
		return err
	}
	// The database's total is known only when every table that can record
	// a failure was read: a locked one may hold the failure.
	failed, known := 0.0, true
	for _, t := range found {
		labels := []string{db.name, t.schema, t.name}
		if t.tool == nil {
			ch <- prometheus.MustNewConstMetric(migrationRecognizedDesc, prometheus.GaugeValue, 0, labels...)
			continue
		}
		ch <- prometheus.MustNewConstMetric(migrationRecognizedDesc, prometheus.GaugeValue, 1, labels...)
		lt, hasLock := lockTab[t.schema]
		hasLock = hasLock && t.tool.name == toolLiquibase
		r, lockedRows, readable, err := readRecognised(ctx, db, t, lt, hasLock, locks)
		if err != nil {
			return err
		}
		ch <- prometheus.MustNewConstMetric(migrationReadableDesc, prometheus.GaugeValue, flagValue(readable), labels...)
		if readable {
			failed += emitMigrationState(ch, db.name, t, r, locks, hasLock, lockedRows)
		} else if t.tool.hasFailed {
			known = false
		}
	}
	if known {
		ch <- prometheus.MustNewConstMetric(dbMigrationsFailedDesc, prometheus.GaugeValue, failed, db.name)
	}
	return nil
}

// readRecognised reads a recognised table (and Liquibase's lock table with
// its changelog). It skips a table another session holds ACCESS EXCLUSIVE
// and reports a statement that failed (lock timeout, no privilege, dropped
// since discovery) as unreadable; only a broken connection is an error.
func readRecognised(ctx context.Context, db *database, t recognisedTable, lockTable migrationTable, hasLock bool,
	locks migrationLocks) (r migrationRead, lockedRows int64, readable bool, err error) {
	if locks.blocked[t.oid] || (hasLock && locks.blocked[lockTable.oid]) {
		return r, 0, false, nil
	}
	r, err = readMigrationTable(ctx, db, t)
	if err == nil && hasLock {
		err = db.pool.QueryRow(ctx, fmt.Sprintf(liquibaseLock.readSQL, lockTable.quoted())).Scan(&lockedRows)
	}
	if err == nil {
		return r, lockedRows, true, nil
	}
	// A value the read cannot take (a look-alike table's row with NULL
	// where the tool writes none) is this table's problem, not the
	// collector's: the table is unreadable, the others are still read.
	var scanErr pgx.ScanArgError
	if !statementFailed(err) && !errors.As(err, &scanErr) {
		return r, 0, false, fmt.Errorf("%s.%s: %w", t.schema, t.name, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table: dropped since discovery
		db.migrations.invalidate()
	}
	return r, 0, false, nil
}

func flagValue(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}

func hasChangelog(found []recognisedTable, schema string) bool {
	for _, t := range found {
		if t.schema == schema && t.tool != nil && t.tool.name == toolLiquibase {
			return true
		}
	}
	return false
}

// emitMigrationState turns one table's read into the tool's series and
// returns its failed migrations (0 for a tool that records none).
func emitMigrationState(ch chan<- prometheus.Metric, datname string, t recognisedTable, r migrationRead,
	locks migrationLocks, hasLock bool, lockedRows int64) float64 {
	tool := t.tool
	labels := []string{datname, t.schema, tool.name}
	// A run is in progress while a session holds the tool's lock.
	running, holderSince := false, (*time.Time)(nil)
	if tool.lockKeys != nil {
		for _, k := range tool.lockKeys(datname, t.migrationTable) {
			if since, ok := locks.held[k]; ok {
				running = true
				if since != nil && (holderSince == nil || since.Before(*holderSince)) {
					holderSince = since
				}
			}
		}
	}
	if tool.name == toolLiquibase {
		running = hasLock && lockedRows > 0
	}
	// While a run holds the lock, an unfinished row is its own, unless the
	// row started before the holder's session did: a run that died left it.
	failed := r.unfinished
	if tool.runLooksFailed && running {
		failed = 0
		if holderSince != nil {
			for _, at := range r.unfinishedStarts {
				if at.Before(*holderSince) {
					failed++
				}
			}
		}
	}

	ch <- prometheus.MustNewConstMetric(migrationsAppliedDesc, prometheus.GaugeValue, float64(r.applied), labels...)
	if tool.hasFailed {
		ch <- prometheus.MustNewConstMetric(migrationsFailedDesc, prometheus.GaugeValue, float64(failed), labels...)
	}
	if tool.lockKeys != nil || (tool.name == toolLiquibase && hasLock) {
		ch <- prometheus.MustNewConstMetric(migrationsInProgressDesc, prometheus.GaugeValue, flagValue(running), labels...)
	}
	if tool.hasTimestamp && r.lastApplied != nil {
		ch <- prometheus.MustNewConstMetric(migrationLastAppliedDesc, prometheus.GaugeValue, *r.lastApplied, labels...)
	}
	if r.version != nil && *r.version != "" {
		ch <- prometheus.MustNewConstMetric(migrationInfoDesc, prometheus.GaugeValue, 1, append(labels, versionLabel(*r.version))...)
	}
	if !tool.hasFailed {
		return 0
	}
	return float64(failed)
}

func readMigrationTable(ctx context.Context, db *database, t recognisedTable) (migrationRead, error) {
	var r migrationRead
	err := db.pool.QueryRow(ctx, t.tool.query(t.migrationTable)).
		Scan(&r.applied, &r.unfinished, &r.unfinishedStarts, &r.lastApplied, &r.version)
	return r, err
}

func readMigrationLocks(ctx context.Context, db *database, keys []int64, rels []uint32) (migrationLocks, error) {
	locks := migrationLocks{held: map[int64]*time.Time{}, blocked: map[uint32]bool{}}
	if len(rels) == 0 {
		return locks, nil
	}
	if keys == nil {
		keys = []int64{}
	}
	rows, err := db.pool.Query(ctx, migrationLocksSQL, keys, rels)
	if err != nil {
		return locks, fmt.Errorf("migration locks: %w", err)
	}
	var (
		kind  string
		key   int64
		since *time.Time
	)
	_, err = pgx.ForEachRow(rows, []any{&kind, &key, &since}, func() error {
		if kind == "relation" {
			locks.blocked[uint32(key)] = true
			return nil
		}
		if since != nil {
			at := *since
			locks.held[key] = &at
		} else {
			locks.held[key] = nil
		}
		return nil
	})
	if err != nil {
		return locks, fmt.Errorf("migration locks: %w", err)
	}
	return locks, nil
}

// versionLabel keeps a version label valid and bounded.
func versionLabel(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	if len(v) <= maxVersionLabel {
		return v
	}
	cut := maxVersionLabel
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}
