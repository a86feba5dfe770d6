package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// behindCache holds a database's last good check, the state of the last
// refresh and the refresh in flight.
type behindCache struct {
	mu   sync.Mutex
	last *behindResult // the last successful check
	// lastErr is the last refresh's error, nil once a refresh succeeds;
	// failures counts the refreshes that failed in a row, and no refresh
	// starts before retryAt (backoff).
	lastErr  error
	failures int
	retryAt  time.Time
	running  chan struct{} // closed when the refresh in flight ends
	// comparisons and resumeAfter belong to the refresh in flight (one
	// at a time): the last lookup of each owned sequence, and the oid the
	// next refresh's lookups start after, 0 once a round is complete.
	comparisons []comparison
	resumeAfter uint32
}

// Refreshes that fail are retried after behindRetryBase, doubling per
// failure in a row up to one TTL, so a check that keeps failing costs the
// database no more than one that succeeds.
const behindRetryBase = 5 * time.Second

// behindStaleTTLs is how many TTLs old the last good result may get while
// refreshes fail and it is still served (with success 0): long enough to
// ride out a short outage or a migration's locks, short enough that an
// anomaly fixed meanwhile does not linger for long.
const behindStaleTTLs = 3

// behindColumn returns the result to serve for the database, starting a
// background refresh when the last good one is older than the TTL.
//
//   - A result younger than the TTL is served as is.
//   - An older one is still served, at once, while a refresh runs.
//   - While refreshes fail, the last good result is served for up to
//     behindStaleTTLs TTLs together with the error (so the collector
//     reports failure), and refreshes back off.
//   - Only with no result to serve does a scrape wait for a running
//     refresh, up to its deadline.
//
// The refresh runs under the database's lifetime, bounded by the TTL, so
// it stops when the database disappears or the target closes.
func (t *Target) behindColumn(ctx context.Context, db *database) (*behindResult, error) {
	c := &db.behind
	ttl := t.opts.BehindColumnTTL
	c.mu.Lock()
	now := time.Now()
	if c.last != nil && now.Sub(c.last.at) < ttl {
		r := c.last
		c.mu.Unlock()
		return r, nil
	}
	if c.running == nil && !now.Before(c.retryAt) {
		t.startBehindRefresh(db)
	}
	running, last, lastErr := c.running, c.last, c.lastErr
	c.mu.Unlock()
	if last != nil && now.Sub(last.at) >= behindStaleTTLs*ttl {
		last = nil // too old to stand for the database any more
	}
	switch {
	case last != nil && lastErr == nil:
		return last, nil
	case last != nil:
		return last, fmt.Errorf("serving the check from %s ago: refreshing it failed: %w",
			now.Sub(last.at).Round(time.Second), lastErr)
	case running == nil:
		// Backing off after a failure: no refresh to wait for.
		return nil, lastErr
	}
	select {
	case <-running:
	case <-ctx.Done():
		return nil, fmt.Errorf("sequence-behind-column check still running: %w", ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastErr != nil {
		return nil, c.lastErr
	}
	return c.last, nil
}

// startBehindRefresh starts a background check of db; c.mu is held.
func (t *Target) startBehindRefresh(db *database) {
	c := &db.behind
	done := make(chan struct{})
	c.running = done
	go func() {
		ttl := t.opts.BehindColumnTTL
		rctx, cancel := context.WithTimeout(db.life, ttl)
		var r *behindResult
		var err error
		select {
		case t.refreshSlots <- struct{}{}:
			r, err = t.checkBehind(rctx, db)
			<-t.refreshSlots
		case <-rctx.Done():
			err = fmt.Errorf("waiting for a refresh slot: %w", rctx.Err())
		}
		cancel()
		err = t.scrub.error(err)
		c.mu.Lock()
		if err == nil {
			c.last, c.lastErr, c.failures, c.retryAt = r, nil, 0, time.Time{}
		} else {
			c.lastErr = err
			c.failures++
			c.retryAt = time.Now().Add(behindRetryDelay(c.failures, ttl))
		}
		failures, retryAt := c.failures, c.retryAt
		c.running = nil
		c.mu.Unlock()
		// A refresh cut short because the database went away or the
		// target closed is not worth an error in the log.
		if err != nil && db.life.Err() == nil {
			t.logger.Error("sequence-behind-column check failed", "datname", db.name,
				"failures_in_a_row", failures, "retry_in", time.Until(retryAt).Round(time.Millisecond), "err", err)
		}
		close(done)
	}()
}

// behindRetryDelay is how long to wait after the n-th failed refresh in a
// row: behindRetryBase doubled per failure, at most one TTL.
func behindRetryDelay(n int, ttl time.Duration) time.Duration {
	d := behindRetryBase
	for i := 1; i < n && d < ttl; i++ {
		d *= 2
	}
	return min(d, ttl)
}
