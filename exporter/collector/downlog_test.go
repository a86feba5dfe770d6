package collector

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A target down for many scrapes is logged once, then once a minute, and
// its recovery once.
func TestDownLogRateLimits(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	now := time.Unix(1e9, 0)
	d := &DownLog{now: func() time.Time { return now }}
	down := errors.New("connection refused")
	for range 1415 {
		d.Down(logger, "target does not answer", down)
		now = now.Add(14 * time.Millisecond) // 20 scrapers for 20 s
	}
	if n := strings.Count(buf.String(), "target does not answer"); n != 1 {
		t.Errorf("%d lines for 20 s down, want 1:\n%s", n, buf.String())
	}
	now = now.Add(DownLogEvery)
	d.Down(logger, "target does not answer", down)
	if n := strings.Count(buf.String(), "target does not answer"); n != 2 || !strings.Contains(buf.String(), "down_scrapes_since_last_log=1415") {
		t.Errorf("after a minute, want a second line counting the scrapes:\n%s", buf.String())
	}
	d.Up(logger, "target answers again")
	d.Up(logger, "target answers again")
	if n := strings.Count(buf.String(), "target answers again"); n != 1 {
		t.Errorf("%d recovery lines, want 1", n)
	}
	d.Down(logger, "target does not answer", down)
	if n := strings.Count(buf.String(), "target does not answer"); n != 3 {
		t.Errorf("going down again is logged at once: %d lines", n)
	}
}
