package demo

import (
	"context"
	"net/http"
	"time"
)

// EventLoop imitates a Node.js process: one goroutine runs every task in
// turn, so a long task delays everything queued behind it — which is what
// an open-loop prober sees from outside.
type EventLoop struct {
	tasks chan func()
}

// NewEventLoop starts the loop; it ends when ctx is done.
func NewEventLoop(ctx context.Context) *EventLoop {
	l := &EventLoop{tasks: make(chan func(), 1024)}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case task := <-l.tasks:
				task()
			}
		}
	}()
	return l
}

// Do runs f on the loop and waits for it (or ctx).
func (l *EventLoop) Do(ctx context.Context, f func()) error {
	done := make(chan struct{})
	select {
	case l.tasks <- func() { f(); close(done) }:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StallEvery blocks the loop for stall once every period (a synchronous
// JSON.parse of a big payload, a GC pause, a CPU-bound handler), until ctx
// is done.
func (l *EventLoop) StallEvery(ctx context.Context, period, stall time.Duration) {
	go every(ctx, period, func() { _ = l.Do(ctx, func() { busyWait(stall) }) })
}

// busyWait burns CPU for d, as a synchronous task on a real event loop does.
func busyWait(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}

// NoopHandler is the route the prober calls: it does no I/O and answers as
// soon as the loop gets to it.
func (l *EventLoop) NoopHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := l.Do(r.Context(), func() {}); err != nil {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// every calls f once per period until ctx is done.
func every(ctx context.Context, period time.Duration, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
