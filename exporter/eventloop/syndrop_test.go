package eventloop

import (
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// neverAccepts returns the address of a loopback TCP listener whose accept
// queue is full and never drained: the kernel drops further SYNs, so a
// dial to it neither connects nor fails until its own timeout, like a
// target behind a firewall that drops packets.
func neverAccepts(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	// Fill the accept queue (backlog 0 holds one connection, a few more
	// make sure), then check that a further dial hangs.
	for range 4 {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	if c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
		c.Close()
		t.Skip("the kernel accepted a connection beyond the backlog: cannot build a listener that never accepts")
	}
	return addr
}

func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
}

// A target that never answers a SYN: each tick used to start a dial that
// outlived its request by two minutes (the transport keeps dialing for a
// later request, and the dialer had no timeout), so sockets and goroutines
// grew by one per tick past max_in_flight. Now dials count against
// max_in_flight and end at the probe's timeout.
func TestDialsToASynDroppingTargetAreBounded(t *testing.T) {
	addr := neverAccepts(t)
	filesBefore, goroutinesBefore := openFiles(t), runtime.NumGoroutine()
	const maxInFlight = 4
	m, reg := startManager(t, ProbeConfig{
		Name: "drop", URL: "http://" + addr + "/loop",
		Interval: 2 * time.Millisecond, Timeout: 300 * time.Millisecond, MaxInFlight: maxInFlight,
	}.WithDefaults())
	var peakFiles, peakGoroutines int
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		peakFiles = max(peakFiles, openFiles(t)-filesBefore)
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
	for openFiles(t) > filesBefore+1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d files still open after the probe stopped", openFiles(t)-filesBefore)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
