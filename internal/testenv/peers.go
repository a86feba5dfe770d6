package testenv

import (
	"bytes"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ResettingListener accepts connections on loopback and resets each one:
// after reading the request when readFirst is set, at once otherwise. It
// is a real TCP peer that aborts, which no mock transport reproduces. It
// returns host:port and closes at the end of the test.
func ResettingListener(t testing.TB, readFirst bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed at cleanup
			}
			if readFirst {
				_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = c.Read(make([]byte, 4096))
			}
			// Linger 0 turns Close into a TCP RST instead of a FIN.
			_ = c.(*net.TCPConn).SetLinger(0)
			_ = c.Close()
		}
	}()
	return l.Addr().String()
}

// SyncBuffer is an io.Writer that goroutines can share while a test reads
// what they wrote: a log sink for a process or a logger under test.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// NeverAcceptingListener returns the address of a loopback TCP listener
// whose accept queue is full and never drained: the kernel drops further
// SYNs, so a dial to it neither connects nor fails until its own timeout,
// like a target behind a firewall that drops packets. The test skips when
// the kernel accepts beyond the backlog.
func NeverAcceptingListener(t testing.TB) string {
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

// OpenFiles is the number of files this process has open; the test skips
// where /proc/self/fd is not there.
func OpenFiles(t testing.TB) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
}
