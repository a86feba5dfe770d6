// Package budget decides how a scrape's time is spent, in one place: the
// scrape's deadline (Prometheus's timeout header less an offset, capped),
// the shared collection's end a margin before it (so what a target reports
// as it runs out of time reaches the scrape), and each collector's end a
// margin before that (so a collector honouring its context returns its
// error and what it read before the target gives up on it).
package budget

import (
	"strconv"
	"time"
)

// MaxScrapeTimeout caps X-Prometheus-Scrape-Timeout-Seconds. Prometheus
// itself never sends more than its scrape interval; a client sending a day
// would hold a collection (and its connections) open that long.
const MaxScrapeTimeout = 5 * time.Minute

// ScrapeTimeout turns the X-Prometheus-Scrape-Timeout-Seconds header into
// the scrape's deadline: the header less offset, at most MaxScrapeTimeout,
// or def when the header is absent or not a positive number. An offset
// that would leave nothing is ignored rather than making every collection
// fail at once.
func ScrapeTimeout(header string, offset, def time.Duration) time.Duration {
	secs, err := strconv.ParseFloat(header, 64)
	if header == "" || err != nil || !(secs > 0) {
		return def
	}
	t := MaxScrapeTimeout
	if secs < MaxScrapeTimeout.Seconds() {
		t = time.Duration(secs * float64(time.Second))
	}
	if t-offset > 0 {
		return t - offset
	}
	return t
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
