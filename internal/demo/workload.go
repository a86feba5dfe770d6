// Package demo is the demo's workload: it plants the database conditions
// redline exists to catch (dead tuples, a sequence behind its column, a
// saturated pgBouncer pool), runs a small application whose event loop
// stalls now and then, and receives the rollback webhook. `make demo` and the
// end-to-end test use it; nothing here fakes a metric — every signal comes
// from real PostgreSQL, pgBouncer and HTTP behaviour.
package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PlantDeadTuples creates a table and leaves a known share of its rows dead
// (autovacuum must be off for them to stay): rows inserted, then every
// other one updated and a tenth deleted.
func PlantDeadTuples(ctx context.Context, dsn, table string, rows int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	t := pgx.Identifier{table}.Sanitize()
	for _, stmt := range []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (id bigserial PRIMARY KEY, qty int NOT NULL)", t),
		fmt.Sprintf("INSERT INTO %s (qty) SELECT g FROM generate_series(1, %d) g", t, rows),
		fmt.Sprintf("UPDATE %s SET qty = qty + 1 WHERE id %% 2 = 0", t),
		fmt.Sprintf("DELETE FROM %s WHERE id %% 10 = 0", t),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("plant dead tuples: %w", err)
		}
	}
	return nil
}

// CreateHealthyTable creates a table with a sequence and a few rows and no
// dead tuples: the database of a running platform has tables, and without
// any the dead-tuple and sequence signals have no series to judge.
func CreateHealthyTable(ctx context.Context, dsn, table string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	t := pgx.Identifier{table}.Sanitize()
	for _, stmt := range []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (id bigserial PRIMARY KEY, name text NOT NULL)", t),
		fmt.Sprintf("INSERT INTO %s (name) SELECT 'account ' || g FROM generate_series(1, 100) g", t),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("create healthy table: %w", err)
		}
	}
	return nil
}

// PlantSequenceBehind creates a table whose rows were imported with explicit
// ids while its sequence stayed behind — the state a restore or bulk import
// leaves, where the next insert fails with a duplicate key. It returns how
// many values the sequence is behind.
func PlantSequenceBehind(ctx context.Context, dsn, table string) (int64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	t := pgx.Identifier{table}.Sanitize()
	for _, stmt := range []string{
		fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (id bigserial PRIMARY KEY, note text)", t),
		fmt.Sprintf("INSERT INTO %s (note) SELECT 'before import' FROM generate_series(1, 10)", t),
		fmt.Sprintf("INSERT INTO %s (id, note) SELECT g, 'imported' FROM generate_series(11, 1000) g", t),
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return 0, fmt.Errorf("plant sequence behind column: %w", err)
		}
	}
	// last_value is 10 and is_called is true: the next nextval() gives 11,
	// which the import already used.
	return 1000 - 10, nil
}

// Saturator keeps more transactions open through a pgBouncer pool than it
// has server connections, so the pool runs at 100% with clients waiting.
type Saturator struct {
	pool   *pgxpool.Pool
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Saturate opens clients connections to dsn (a pgBouncer pool in
// transaction mode) and has each hold a transaction for hold, over and over,
// until Stop. With clients > pool_size the pool is saturated and the rest
// wait in pgBouncer's queue.
func Saturate(ctx context.Context, dsn string, clients int, hold time.Duration) (*Saturator, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(clients)
	cfg.MinConns = int32(clients)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Saturator{pool: pool, cancel: cancel}
	sleep := fmt.Sprintf("SELECT pg_sleep(%f)", hold.Seconds())
	for range clients {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for ctx.Err() == nil {
				if _, err := pool.Exec(ctx, sleep); err != nil && ctx.Err() == nil {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	return s, nil
}

// Stop releases the pool: the transactions end and the clients disconnect.
func (s *Saturator) Stop() {
	s.cancel()
	s.wg.Wait()
	s.pool.Close()
}
