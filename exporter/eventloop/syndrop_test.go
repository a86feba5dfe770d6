package eventloop

import (
	"runtime"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

// A target that never answers a SYN: each tick used to start a dial that
// outlived its request by two minutes (the transport keeps dialing for a
// later request, and the dialer had no timeout), so sockets and goroutines
// grew by one per tick past max_in_flight. Now dials count against
// max_in_flight and end at the probe's timeout.
func TestDialsToASynDroppingTargetAreBounded(t *testing.T) {
	addr := testenv.NeverAcceptingListener(t)
	filesBefore, goroutinesBefore := testenv.OpenFiles(t), runtime.NumGoroutine()
	const maxInFlight = 4
	m, reg := startManager(t, ProbeConfig{
		Name: "drop", URL: "http://" + addr + "/loop",
		Interval: 2 * time.Millisecond, Timeout: 300 * time.Millisecond, MaxInFlight: maxInFlight,
	}.WithDefaults())
	var peakFiles, peakGoroutines int
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		peakFiles = max(peakFiles, testenv.OpenFiles(t)-filesBefore)
		peakGoroutines = max(peakGoroutines, runtime.NumGoroutine()-goroutinesBefore)
	}
	t.Logf("peak: %d more open files, %d more goroutines", peakFiles, peakGoroutines)
	// One socket per dial; a few files of slack for the test itself.
	if peakFiles > maxInFlight+3 {
		t.Errorf("%d more open files against a target that drops SYNs, want at most max_in_flight (%d)", peakFiles, maxInFlight)
	}
	// The probe's own: scheduler and workers, and per outstanding dial the
	// transport's dialing goroutine.
	if limit := 1 + 3*maxInFlight + 5; peakGoroutines > limit {
		t.Errorf("%d more goroutines, want at most %d", peakGoroutines, limit)
	}
	if failures(t, reg, "drop")[ReasonTimeout] == 0 {
		t.Error("no timeout failures recorded")
	}
	m.Stop()
	// Stopped, the probe leaves nothing behind once its dials time out.
	deadline := time.Now().Add(2 * time.Second)
	for testenv.OpenFiles(t) > filesBefore+1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d files still open after the probe stopped", testenv.OpenFiles(t)-filesBefore)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
