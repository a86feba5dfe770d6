// Package deadline decides how a scrape's time is spent, in one place: the
// scrape's deadline (Prometheus's timeout header less an offset, capped),
// the shared collection's end a margin before it (so what a target reports
// as it runs out of time reaches the scrape), and each collector's end a
// margin before that (so a collector honouring its context returns its
// error and what it read before the target gives up on it).
package deadline

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// MaxScrapeTimeout caps X-Prometheus-Scrape-Timeout-Seconds. Prometheus
// itself never sends more than its scrape interval; a client sending a day
// would hold a collection (and its connections) open that long.
const MaxScrapeTimeout = 5 * time.Minute

// MinScrapeTimeout is the shortest deadline a header can ask for. A
// smaller one (1e-4 s) cannot be a real scrape's: it only made healthy
// targets read as down.
const MinScrapeTimeout = 250 * time.Millisecond

// ScrapeTimeout turns the X-Prometheus-Scrape-Timeout-Seconds header into
// the scrape's deadline: the header less offset, between MinScrapeTimeout
// and MaxScrapeTimeout, or def when the header is absent or not a positive
// number. Every value above the cap is capped alike (+Inf as 1e400, which
// does not fit a float64), every positive value below the floor raised
// to it. An offset that would leave
// less than the floor is ignored rather than making every collection fail
// at once.
func ScrapeTimeout(header string, offset, def time.Duration) time.Duration {
	secs, err := strconv.ParseFloat(strings.TrimSpace(header), 64)
	var numErr *strconv.NumError
	switch {
	case err == nil && secs > 0: // NaN and negative values fail this
	case errors.As(err, &numErr) && errors.Is(numErr.Err, strconv.ErrRange) && secs > 0:
		// Too large for a float64: +Inf, capped below.
	default:
		return def
	}
	d := MaxScrapeTimeout
	if secs < MaxScrapeTimeout.Seconds() {
		d = max(time.Duration(secs*float64(time.Second)), MinScrapeTimeout)
	}
	if d-offset >= MinScrapeTimeout {
		return d - offset
	}
	return d
}

// Collection is when a target's collection must end for a scrape whose
// deadline is d: 5% of the time left earlier, between 10ms and 250ms — the
// time left to hand the result over to the scrape.
func Collection(d time.Time) time.Time {
	left := time.Until(d)
	return d.Add(-min(max(left/20, 10*time.Millisecond), 250*time.Millisecond))
}

// Collector is when each collector must end for a collection whose
// deadline is d: 5% of the time left earlier, between 5ms and 100ms.
func Collector(d time.Time) time.Time {
	left := time.Until(d)
	return d.Add(-min(max(left/20, 5*time.Millisecond), 100*time.Millisecond))
}
