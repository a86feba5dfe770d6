package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/dsn"
)

// applicationName identifies the exporter's sessions in pg_stat_activity.
const applicationName = "redline_exporter"

var (
	upDesc = prometheus.NewDesc("pg_up",
		"1 when the PostgreSQL server answered the exporter during this scrape, 0 otherwise.", nil, nil)
	poolConnsDesc = prometheus.NewDesc("redline_postgres_connections",
		"Connections the exporter holds open to the database (in use, idle or being opened). A PostgreSQL connection serves one database, so a target holds up to max connections per database for each covered database and its maintenance database; idle ones are kept 30 minutes.",
		[]string{"datname"}, nil)
)

// Target is one PostgreSQL server. It implements collector.Target.
type Target struct {
	opts    Options
	logger  *slog.Logger
	downLog collector.DownLog
	base    *pgxpool.Config
	scrub   scrubber
	// maintenance is the DSN's database: discovery and the server-wide
	// signals run there, and its pool lives as long as the target.
	maintenance string
	// now is the exporter's clock; tests shift it to check the skew maths.
	now func() time.Time

	// life ends on Close; background refreshes run under it.
	life   context.Context
	cancel context.CancelFunc

	// refreshSlots bounds the behind-column refreshes running at once, so
	// a server with many databases does not get all of them together when
	// their TTLs run out.
	refreshSlots chan struct{}
	// ownedPage is how many sequences one page of a behind-column check
	// reads (ownedPage; tests make it small to cross pages).
	ownedPage int
	// cacheSlots bounds the background refreshes of cached collectors
	// (freshCache) running at once; apart from refreshSlots, so a long
	// behind-column check cannot hold them past their max age.
	cacheSlots chan struct{}

	mu      sync.Mutex
	closed  bool
	dbs     map[string]*database
	missing map[string]bool // configured databases already reported absent
}

// database is one database's pool and its cached slow signals.
type database struct {
	name      string
	pool      *pgxpool.Pool
	sequences sequenceCatalog
	behind    behindCache
	// sequenceRanks and deadTuples are what the sequences and dead_tuples
	// collectors serve, cached on large databases.
	sequenceRanks freshCache[ranking]
	deadTuples    freshCache[deadTuples]
	// life ends when the database disappears or the target closes.
	life   context.Context
	cancel context.CancelFunc

	migrations migrationCatalog // migrations.go
}

// NewTarget checks the options and the DSN and returns a target that
// connects on first use: it never blocks and never fails because the server
// is down.
func NewTarget(opts Options, logger *slog.Logger) (*Target, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("postgres options: %w", err)
	}
	cfg, err := dsn.Parse("postgres", opts.DSN)
	if err != nil {
		return nil, err
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = opts.ConnectTimeout
	}
	// RuntimeParams go into the startup packet, so every connection has
	// them from its first statement, whatever the DSN or the role's
	// defaults say.
	cc.RuntimeParams["application_name"] = applicationName
	cc.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	cc.RuntimeParams["lock_timeout"] = strconv.FormatInt(opts.LockTimeout.Milliseconds(), 10)
	// Every query string the exporter sends is either constant or built
	// once per refresh; a one-round-trip unnamed statement avoids filling
	// the server with prepared statements and works behind pgBouncer.
	cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	cfg.MaxConns = int32(opts.MaxConnsPerDatabase)
	cfg.MinConns = 0
	// Keep connections across scrapes: a scrape in steady state opens none.
	cfg.MaxConnIdleTime = 30 * time.Minute

	if cc.Database == "" {
		// As libpq: no database means the one named like the user. Naming
		// it keeps discovery from opening a second pool for it.
		cc.Database = cc.User
	}

	life, cancel := context.WithCancel(context.Background())
	t := &Target{
		opts:         opts,
		logger:       logger,
		base:         cfg,
		scrub:        scrubber{password: cc.Password},
		maintenance:  cc.Database,
		now:          time.Now,
		life:         life,
		cancel:       cancel,
		dbs:          map[string]*database{},
		missing:      map[string]bool{},
		refreshSlots: make(chan struct{}, 1),
		ownedPage:    ownedPage,
		cacheSlots:   make(chan struct{}, perDatabaseParallelism),
	}
	return t, nil
}

// UpDesc is the target's up metric, for collector.UpReporter.
func (t *Target) UpDesc() *prometheus.Desc { return upDesc }

var _ collector.UpReporter = (*Target)(nil)

// Collectors names the enabled collectors, for collector.UpReporter.
func (t *Target) Collectors() []string {
	var names []string
	for _, c := range Collectors.Enabled() {
		names = append(names, c.Name)
	}
	return names
}

// Collect discovers the databases, sends pg_up and runs the enabled
// collectors. It returns by ctx's deadline. A server that does not answer
// is reported down the way every target kind is (collector.Down): logged
// once, pg_up 0 and each collector failed.
func (t *Target) Collect(ctx context.Context, ch chan<- prometheus.Metric) {
	dbs, err := t.discover(ctx)
	if err != nil {
		t.downLog.Down(t.logger, "postgres target does not answer", err)
		for _, m := range collector.Down(upDesc, t.Collectors()) {
			ch <- m
		}
		t.collectPoolSizes(ch)
		return
	}
	t.downLog.Up(t.logger, "postgres target answers again")
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)

	var named []collector.Named
	sc := &scrape{t: t, dbs: dbs}
	for _, c := range Collectors.Enabled() {
		run := c.Build
		update := updateFunc(func(ctx context.Context, ch chan<- prometheus.Metric) error {
			return t.scrub.error(t.retryOnLostConnection(ctx, ch, func(ctx context.Context, ch chan<- prometheus.Metric) error {
				return run(ctx, sc, ch)
			}))
		})
		named = append(named, collector.Named{Name: c.Name, Collector: update})
	}
	collector.Run(ctx, ch, t.logger, named)
	t.collectPoolSizes(ch)
}

// collectPoolSizes sends how many connections each database's pool holds,
// after the scrape's collectors used them: what the exporter costs the
// server in connection slots, per database.
func (t *Target) collectPoolSizes(ch chan<- prometheus.Metric) {
	t.mu.Lock()
	open := make(map[string]int32, len(t.dbs))
	for name, db := range t.dbs {
		open[name] = db.pool.Stat().TotalConns()
	}
	t.mu.Unlock()
	for name, n := range open {
		ch <- prometheus.MustNewConstMetric(poolConnsDesc, prometheus.GaugeValue, float64(n), name)
	}
}

// Close stops background work and closes every pool.
func (t *Target) Close() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	dbs := t.dbs
	t.dbs = nil
	t.mu.Unlock()
	t.cancel()
	for _, db := range dbs {
		db.close()
	}
}

// scrape is what one collection run shares between collectors.
type scrape struct {
	t   *Target
	dbs []*database // the discovered databases, in name order
}

// updateFunc adapts a function to collector.Collector.
type updateFunc func(ctx context.Context, ch chan<- prometheus.Metric) error

func (f updateFunc) Update(ctx context.Context, ch chan<- prometheus.Metric) error { return f(ctx, ch) }

// collectFunc runs one collector over a scrape's databases.
type collectFunc func(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error

// Collectors are this package's collectors, in the order they are wired;
// each file that holds one registers it from its init.
var Collectors collector.Registry[collectFunc]

const discoverySQL = `
SELECT datname
FROM pg_database
WHERE datallowconn AND NOT datistemplate
  AND has_database_privilege(oid, 'CONNECT')
  AND (cardinality($1::text[]) = 0 OR datname = ANY($1::text[]))
ORDER BY datname`

// discover lists the databases to cover and syncs the pools with them:
// pools of databases that disappeared are closed. Its success is pg_up.
func (t *Target) discover(ctx context.Context) ([]*database, error) {
	m, err := t.database(t.maintenance)
	if err != nil {
		return nil, err
	}
	filter := t.opts.Databases
	if filter == nil {
		filter = []string{}
	}
	list := func() ([]string, error) {
		rows, err := m.pool.Query(ctx, discoverySQL, filter)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}
	names, err := list()
	if connectionLost(ctx, err) {
		// pg_up is decided here: a pooled connection the server ended
		// must not make the scrape read 0. Its siblings in every pool are
		// most likely gone too; the collectors then start on fresh ones.
		t.logger.Debug("connection lost, retrying on a fresh one", "err", t.scrub.error(err))
		t.resetPools()
		names, err = list()
	}
	if err != nil {
		return nil, t.scrub.error(fmt.Errorf("list databases: %w", err))
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("target closed")
	}
	keep := map[string]bool{t.maintenance: true}
	dbs := make([]*database, 0, len(names))
	for _, name := range names {
		keep[name] = true
		db, err := t.databaseLocked(name)
		if err != nil {
			return nil, err
		}
		dbs = append(dbs, db)
	}
	for _, name := range t.opts.Databases {
		if !keep[name] && !t.missing[name] {
			t.missing[name] = true
			t.logger.Warn("configured database does not exist, is a template, refuses connections or may not be connected to by the role; skipping it", "datname", name)
		} else if keep[name] {
			delete(t.missing, name)
		}
	}
	for name, db := range t.dbs {
		if !keep[name] {
			delete(t.dbs, name)
			t.logger.Info("database disappeared, closing its pool", "datname", name)
			// Close waits for borrowed connections; a refresh that is
			// still running must not hold up the scrape.
			go db.close()
		}
	}
	return dbs, nil
}

// database returns the named database's state, creating its (lazy) pool.
func (t *Target) database(name string) (*database, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("target closed")
	}
	return t.databaseLocked(name)
}

func (t *Target) databaseLocked(name string) (*database, error) {
	if db, ok := t.dbs[name]; ok {
		return db, nil
	}
	cfg := t.base.Copy()
	cfg.ConnConfig.Database = name
	// With MinConns 0 the pool connects on the first Acquire.
	pool, err := pgxpool.NewWithConfig(t.life, cfg)
	if err != nil {
		return nil, t.scrub.error(fmt.Errorf("database %q: pool: %w", name, err))
	}
	life, cancel := context.WithCancel(t.life)
	db := &database{name: name, pool: pool, life: life, cancel: cancel}
	t.dbs[name] = db
	return db, nil
}

func (db *database) close() {
	db.cancel()
	db.pool.Close()
}

// gone reports whether err says the database no longer exists: it was
// dropped between discovery and the query. The next discovery drops it.
func gone(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "3D000" // invalid_catalog_name
}

// statementFailed reports whether the server rejected one statement (a
// lock or statement timeout, a dropped relation, a missing privilege) while
// the connection itself is fine, so the caller may skip what it asked for
// rather than fail.
func statementFailed(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && !gone(err) && !connectionLost(context.Background(), err)
}

// perDatabaseParallelism bounds how many databases one collector reads at a
// time: enough to hide round trips, few enough to stay a light client.
const perDatabaseParallelism = 4

// eachDatabase runs fn for every discovered database, a few at a time, and
// joins the errors, each prefixed with its database. A database dropped
// since discovery is skipped: its series simply disappear.
func (s *scrape) eachDatabase(ctx context.Context, fn func(ctx context.Context, db *database) error) error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, perDatabaseParallelism)
	)
	var late error
	for _, db := range s.dbs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			late = ctx.Err()
		}
		if late != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := fn(ctx, db)
			if err == nil {
				return
			}
			if gone(err) {
				s.t.logger.Debug("database dropped during the scrape", "datname", db.name)
				return
			}
			mu.Lock()
			errs = append(errs, fmt.Errorf("database %q: %w", db.name, err))
			mu.Unlock()
		}()
	}
	wg.Wait()
	return errors.Join(append(errs, late)...)
}
