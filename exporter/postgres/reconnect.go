package postgres

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
)

// connectionLost reports whether err says the connection a query ran on is
// gone — the server ended the session (pg_terminate_backend, a shutdown or
// failover, idle_session_timeout) or the network dropped it — rather than
// that the server refused the query or could not be reached at all. Only
// such an error is worth one retry on a fresh connection: a wrong password,
// a refused or timed-out connect would fail the same way again, and a
// second wait would not fit the scrape's deadline.
func connectionLost(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection_exception; 57P01 admin_shutdown, 57P02
		// crash_shutdown, 57P05 idle_session_timeout end one session.
		return strings.HasPrefix(pgErr.Code, "08") ||
			pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P05"
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return false // a fresh connection already failed
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return false
	}
	// The rest are I/O errors on an open connection: EOF, reset, "conn
	// closed".
	return true
}

// resetPools drops every pooled connection of the target: whatever ended
// one of its sessions (a failover, a restart, a terminate-all) most likely
// ended its idle siblings too, and each would fail one query. Connections
// in use are closed when released.
func (t *Target) resetPools() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		db.pool.Reset()
	}
}

// retryOnLostConnection runs a collector and, when it fails because a
// connection was gone, once more on fresh connections within the same
// deadline. What the first attempt sent is dropped, so no series is sent
// twice; ch only receives the metrics of the attempt that counts.
func (t *Target) retryOnLostConnection(ctx context.Context, ch chan<- prometheus.Metric, run func(ctx context.Context, ch chan<- prometheus.Metric) error) error {
	ms, err := buffered(ctx, run)
	if connectionLost(ctx, err) {
		t.logger.Debug("connection lost, retrying on a fresh one", "err", err)
		t.resetPools()
		ms, err = buffered(ctx, run)
	}
	for _, m := range ms {
		ch <- m
	}
	return err
}

// buffered runs fn and returns what it sent.
func buffered(ctx context.Context, fn func(ctx context.Context, ch chan<- prometheus.Metric) error) ([]prometheus.Metric, error) {
	out := make(chan prometheus.Metric)
	done := make(chan []prometheus.Metric)
	go func() {
		var ms []prometheus.Metric
		for m := range out {
			ms = append(ms, m)
		}
		done <- ms
	}()
	err := fn(ctx, out)
	close(out)
	return <-done, err
}
