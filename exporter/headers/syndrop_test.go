package headers

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// neverAccepts is a loopback listener with a full accept queue that is
// never drained: the kernel drops further SYNs, like a firewalled target.
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
	for range 4 {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	if c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond); err == nil {
		c.Close()
		t.Skip("the kernel accepted a connection beyond the backlog")
	}
	return addr
}

// Each interval's request against a target that drops SYNs used to leave
// its dial running after the request timed out; now the dial ends with it.
func TestDialsToASynDroppingTargetEndAtTheTimeout(t *testing.T) {
	addr := neverAccepts(t)
	count := func() int {
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd")
		}
		return len(fds)
	}
	before := count()
	_, reg := startManager(t, nil, ProbeConfig{Name: "drop", URL: "http://" + addr + "/", Interval: MinInterval, Timeout: 200 * time.Millisecond}.WithDefaults())
	peak := 0
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		peak = max(peak, count()-before)
	}
	if peak > 2 {
		t.Errorf("%d more open files against a target that drops SYNs, want 1 (the probe's one dial)", peak)
	}
	if v := gauges(t, reg, "redline_http_header_probe_success")["probe=drop"]; v != 0 {
		t.Errorf("success %v, want 0", v)
	}
}
