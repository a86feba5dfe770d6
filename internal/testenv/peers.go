package testenv

import (
	"bytes"
	"net"
	"sync"
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
