package deadline

import (
	"testing"
	"time"
)

func TestScrapeTimeout(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 10 * time.Second},
		{"15", 14500 * time.Millisecond},
		{"2.5", 2 * time.Second},
		{"0.4", 400 * time.Millisecond}, // offset larger than the timeout: ignored
		{"abc", 10 * time.Second},
		{"-1", 10 * time.Second},
		{"NaN", 10 * time.Second},
		{"+Inf", MaxScrapeTimeout - 500*time.Millisecond},
		// A day, or more than a Duration holds: capped, not trusted.
		{"86400", MaxScrapeTimeout - 500*time.Millisecond},
		{"1e300", MaxScrapeTimeout - 500*time.Millisecond},
		{"300", MaxScrapeTimeout - 500*time.Millisecond},
		{"299", 298500 * time.Millisecond},
		// Inf and a number too large for a float64 are capped alike (1e400
		// used to give the 10s default).
		{"Inf", MaxScrapeTimeout - 500*time.Millisecond},
		{"1e400", MaxScrapeTimeout - 500*time.Millisecond},
		// Too short to be a real scrape's: raised to the floor (1e-4 made
		// every healthy target read as down).
		{"1e-4", MinScrapeTimeout},
		{"0.6", 600 * time.Millisecond}, // the offset would leave less than the floor
		{"-1e400", 10 * time.Second},
	} {
		if got := ScrapeTimeout(tc.header, 500*time.Millisecond, 10*time.Second); got != tc.want {
			t.Errorf("ScrapeTimeout(%q) = %s, want %s", tc.header, got, tc.want)
		}
	}
}

// The margins are taken from the time left: compare against a deadline far
// enough out that the microseconds the call takes do not change them.
func TestMargins(t *testing.T) {
	for _, tc := range []struct {
		left                time.Duration
		collection, collect time.Duration
	}{
		{9500 * time.Millisecond, 250 * time.Millisecond, 100 * time.Millisecond},
		{time.Second, 50 * time.Millisecond, 50 * time.Millisecond},
		{50 * time.Millisecond, 10 * time.Millisecond, 5 * time.Millisecond},
	} {
		d := time.Now().Add(tc.left)
		if got := d.Sub(Collection(d)); !within(got, tc.collection) {
			t.Errorf("collection margin with %s left = %s, want %s", tc.left, got, tc.collection)
		}
		if got := d.Sub(Collector(d)); !within(got, tc.collect) {
			t.Errorf("collector margin with %s left = %s, want %s", tc.left, got, tc.collect)
		}
	}
}

// within allows for the time between taking the deadline and the call.
func within(got, want time.Duration) bool { return got <= want && got >= want-want/10 }
