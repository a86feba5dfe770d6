package collector

import (
	"log/slog"
	"sync"
	"time"
)

// DownLogEvery is how often a target that stays down is logged again.
const DownLogEvery = time.Minute

// DownLog logs a target's "does not answer" once when it goes down, then
// at most once per DownLogEvery while it stays down (with how many scrapes
// found it down meanwhile), and once at INFO when it answers again. Logged
// per scrape, 20 scrapers wrote 1,415 identical lines in 20 s.
type DownLog struct {
	mu     sync.Mutex
	down   bool
	last   time.Time
	missed int // scrapes that found the target down since the last line
	now    func() time.Time
}

// Down records a scrape that found the target down.
func (d *DownLog) Down(logger *slog.Logger, msg string, err error) {
	d.mu.Lock()
	now := d.clock()
	if d.down && now.Sub(d.last) < DownLogEvery {
		d.missed++
		d.mu.Unlock()
		return
	}
	first, missed := !d.down, d.missed
	d.down, d.last, d.missed = true, now, 0
	d.mu.Unlock()
	if first {
		logger.Error(msg, "err", err)
		return
	}
	logger.Error(msg, "err", err, "down_scrapes_since_last_log", missed+1)
}

// Up records a scrape that found the target answering.
func (d *DownLog) Up(logger *slog.Logger, msg string) {
	d.mu.Lock()
	was := d.down
	d.down, d.missed = false, 0
	d.mu.Unlock()
	if was {
		logger.Info(msg)
	}
}

func (d *DownLog) clock() time.Time {
	if d.now != nil {
		return d.now()
	}
	return time.Now()
}
