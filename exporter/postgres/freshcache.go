package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var lastRefreshDesc = prometheus.NewDesc("redline_collector_last_refresh_timestamp_seconds",
	"When the read behind the collector's series for the database started (Unix time): the state of the database they show is at least this recent. On databases with more objects than --postgres.cache-above it is up to --postgres.cache-max-age old; on smaller ones, this scrape's.",
	[]string{"collector", "datname"}, nil)

// freshCache serves one collector's result for one database. A database
// small enough (at most Options.CacheAbove objects at the last read) is
// read on every scrape. A larger one is served from memory while the
// result is younger than Options.CacheMaxAge:
//
//   - from half the max age on, a scrape starts a background refresh and
//     is served the cached result at once;
//   - at the max age, a scrape waits for the refresh (up to its deadline)
//     and fails rather than serve older figures.
//
// So nothing served is older than the max age, and with scrapes more
// often than half of it, no scrape waits for a read.
type freshCache[T any] struct {
	mu      sync.Mutex
	have    bool
	result  T
	at      time.Time // when the read that produced result started
	large   bool      // that read found more than CacheAbove objects
	running chan struct{}
	lastErr error // of the last background refresh, nil once one succeeds
}

// readFunc reads a database's result and how many objects (sequences,
// tables) it went through.
type readFunc[T any] func(ctx context.Context) (result T, objects int, err error)

// get returns the result to serve and when its read started.
func (c *freshCache[T]) get(ctx context.Context, t *Target, db *database, collector string, read readFunc[T]) (T, time.Time, error) {
	maxAge := t.opts.CacheMaxAge
	c.mu.Lock()
	if !c.have || !c.large {
		c.mu.Unlock()
		return c.readNow(ctx, t, read)
	}
	age := time.Since(c.at)
	if age >= maxAge/2 && c.running == nil {
		c.startRefresh(t, db, collector, read)
	}
	if age < maxAge {
		r, at := c.result, c.at
		c.mu.Unlock()
		return r, at, nil
	}
	running := c.running
	c.mu.Unlock()

	var zero T
	select {
	case <-running:
	case <-ctx.Done():
		return zero, time.Time{}, fmt.Errorf("the cached result is older than %s and its refresh is still running: %w", maxAge, ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < maxAge {
		return c.result, c.at, nil
	}
	if c.lastErr != nil {
		return zero, time.Time{}, c.lastErr
	}
	return zero, time.Time{}, fmt.Errorf("the refresh took longer than %s", maxAge)
}

// readNow reads within the scrape and keeps the result.
func (c *freshCache[T]) readNow(ctx context.Context, t *Target, read readFunc[T]) (T, time.Time, error) {
	start := time.Now()
	r, n, err := read(ctx)
	if err != nil {
		var zero T
		return zero, time.Time{}, err
	}
	c.store(r, start, n > t.opts.CacheAbove)
	return r, start, nil
}

// store keeps a result unless a newer one is already kept.
func (c *freshCache[T]) store(r T, at time.Time, large bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.have && c.at.After(at) {
		return
	}
	c.have, c.result, c.at, c.large, c.lastErr = true, r, at, large, nil
}

// startRefresh reads in the background, under the database's lifetime and
// bounded by the max age (an older result would not be served anyway);
// c.mu is held. t.cacheSlots bounds the refreshes running at once.
func (c *freshCache[T]) startRefresh(t *Target, db *database, collector string, read readFunc[T]) {
	done := make(chan struct{})
	c.running = done
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(db.life, t.opts.CacheMaxAge)
		defer cancel()
		var err error
		select {
		case t.cacheSlots <- struct{}{}:
			start := time.Now()
			var r T
			var n int
			if r, n, err = read(ctx); err == nil {
				c.store(r, start, n > t.opts.CacheAbove)
			}
			<-t.cacheSlots
		case <-ctx.Done():
			err = fmt.Errorf("waiting for a refresh slot: %w", ctx.Err())
		}
		err = t.scrub.error(err)
		c.mu.Lock()
		c.running = nil
		if err != nil {
			c.lastErr = fmt.Errorf("background refresh: %w", err)
		}
		c.mu.Unlock()
		if err != nil && db.life.Err() == nil {
			t.logger.Warn("background refresh failed; the next scrape retries", "collector", collector, "datname", db.name, "err", err)
		}
	}()
}

// lastRefreshMetric is the redline_collector_last_refresh_timestamp_seconds
// sample for a result read at at.
func lastRefreshMetric(collector, datname string, at time.Time) prometheus.Metric {
	return prometheus.MustNewConstMetric(lastRefreshDesc, prometheus.GaugeValue,
		float64(at.UnixNano())/1e9, collector, datname)
}
