package pgbouncer

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// A pgBouncer that stays down is logged once, not once per scrape (20
// scrapers wrote 1,415 ERROR lines in 20 s).
func TestDownTargetLogsOnce(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	target := newTarget(t, "postgres://u:pw@127.0.0.1:1/pgbouncer?connect_timeout=1", logger)
	for range 20 {
		if s := timedCollect(t, target, 2*time.Second); s.get(t, "pgbouncer_up{}") != 0 {
			t.Fatal("pgbouncer_up is not 0 for a closed port")
		}
	}
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	if n := strings.Count(text, "pgbouncer is not answering"); n != 1 {
		t.Errorf("%d log lines for 20 scrapes of a down target, want 1:\n%s", n, text)
	}
}
