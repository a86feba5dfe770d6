package pgbouncer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redline-sre/redline/internal/testenv"
)

// Fault tests: every one runs against the real pgBouncer.

// timedCollect collects with a deadline and fails the test when the
// collection outlives it by more than a little scheduling slack.
func timedCollect(t *testing.T, target *Target, deadline time.Duration) scrape {
	t.Helper()
	start := time.Now()
	s := collect(t, target, deadline)
	// A second of slack for a loaded machine under -race; a hang would be
	// pgx's 15 s cleanup or worse.
	if took := time.Since(start); took > deadline+time.Second {
		t.Errorf("collection took %s with a %s deadline", took, deadline)
	}
	return s
}

func waitUp(t *testing.T, target *Target, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if s := collect(t, target, 2*time.Second); s["pgbouncer_up{}"] == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer_up still 0 after %s", within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestPgBouncerStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.PgBouncerOptions{})
	target := newTarget(t, e.pb.StatsDSN(), nil)
	if s := collect(t, target, 5*time.Second); s.get(t, "pgbouncer_up{}") != 1 {
		t.Fatal("pgbouncer_up = 0 before the stop")
	}
	if err := e.pb.Stop(); err != nil {
		t.Fatal(err)
	}
	s := timedCollect(t, target, 2*time.Second)
	if got := s.get(t, "pgbouncer_up{}"); got != 0 {
		t.Errorf("pgbouncer_up = %g after the stop, want 0", got)
	}
	// pgbouncer_up 0 and, for each enabled collector, success 0 (with its
	// duration): nothing else.
	if want := 1 + 2*len(target.collectors); len(s) != want {
		t.Errorf("a down pgBouncer should yield %d series, got:\n%s", want, s)
	}
	for _, c := range target.collectors {
		if got := s.get(t, `redline_collector_success{collector="`+c.Name+`"}`); got != 0 {
			t.Errorf("collector %s: success %g, want 0", c.Name, got)
		}
	}
}

// TestBlackholedPgBouncerNoRetry points the target at a listener that
// accepts connections and never answers (a blackholed pgBouncer behind a
// proxy): a connect that timed out must not be retried, or two connect
// timeouts would outlast the scrape. This is a plain TCP listener because
// a real pgBouncer always answers the startup message.
func TestBlackholedPgBouncerNoRetry(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	accepted := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}

	const connectTimeout = 300 * time.Millisecond
	dsn := fmt.Sprintf("postgres://u:p@%s/pgbouncer?sslmode=disable", ln.Addr())
	target, err := NewTarget(Options{DSN: dsn, ConnectTimeout: connectTimeout}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(target.Close)
	// The pool opens its minimum connection in the background: let that
	// attempt start and time out before counting.
	for accepted() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * connectTimeout)

	before := accepted()
	s := collect(t, target, 10*time.Second)
	if got := s.get(t, "pgbouncer_up{}"); got != 0 {
		t.Errorf("pgbouncer_up = %g, want 0", got)
	}
	if n := accepted() - before; n != 1 {
		t.Errorf("one scrape of a blackholed pgBouncer made %d connection attempts, want 1", n)
	}
}

// TestPgBouncerFrozen freezes pgBouncer with SIGSTOP: connections are
// accepted by the kernel but never answered, the worst case for a scrape.
// It counts the process's goroutines, so it does not run in parallel.
func TestPgBouncerFrozen(t *testing.T) {
	e := newEnv(t, testenv.PgBouncerOptions{})
	target := newTarget(t, e.pb.StatsDSN(), nil)
	if s := collect(t, target, 5*time.Second); s.get(t, "pgbouncer_up{}") != 1 {
		t.Fatal("pgbouncer_up = 0 before freezing")
	}
	baseline := runtime.NumGoroutine()

	pid := e.pb.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(thaw)

	for i := range 2 { // the pooled connection, then a fresh connection attempt
		s := timedCollect(t, target, time.Second)
		if got := s.get(t, "pgbouncer_up{}"); got != 0 {
			t.Errorf("frozen, scrape %d: pgbouncer_up = %g, want 0", i, got)
		}
	}

	thaw()
	waitUp(t, target, 20*time.Second)

	// Connections abandoned at the deadline finish their cancel requests
	// once pgBouncer runs again; then nothing of the frozen scrapes remains.
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: %d now, %d before the freeze\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWrongPasswordIsNotLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.PgBouncerOptions{})
	const wrong = "not-the-password-7f3a"
	u, err := url.Parse(e.pb.StatsDSN())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(e.pb.StatsUser, wrong)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	target := newTarget(t, u.String(), logger)

	s := timedCollect(t, target, 5*time.Second)
	if got := s.get(t, "pgbouncer_up{}"); got != 0 {
		t.Errorf("pgbouncer_up = %g with a wrong password, want 0", got)
	}
	mu.Lock()
	text := logs.String()
	mu.Unlock()
	if !strings.Contains(text, "pgbouncer is not answering") || !strings.Contains(text, "authentication failed") {
		t.Errorf("log does not explain the failure:\n%s", text)
	}
	if strings.Contains(text, wrong) || strings.Contains(text, e.pb.StatsPassword) {
		t.Errorf("log contains a password:\n%s", text)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestConcurrentCollectionsStayInPool runs 50 collections on one target at
// once — without the HTTP layer's sharing, so only the pool bounds them —
// and watches pgBouncer's SHOW CLIENTS meanwhile.
func TestConcurrentCollectionsStayInPool(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.PgBouncerOptions{})
	target := newTarget(t, e.pb.StatsDSN(), nil)

	// One admin connection polls SHOW CLIENTS throughout.
	admin, err := pgx.Connect(context.Background(), e.pb.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	stop := make(chan struct{})
	maxSeen := make(chan int)
	go func() {
		most := 0
		for {
			select {
			case <-stop:
				maxSeen <- most
				return
			default:
			}
			if ports, err := clientPorts(admin); err == nil {
				most = max(most, len(ports))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	var wg sync.WaitGroup
	var mu sync.Mutex
	up := 0
	for range 50 {
		wg.Go(func() {
			s := collect(t, target, 20*time.Second)
			mu.Lock()
			defer mu.Unlock()
			up += int(s["pgbouncer_up{}"])
		})
	}
	wg.Wait()
	close(stop)
	most := <-maxSeen

	if up != 50 {
		t.Errorf("%d of 50 concurrent collections saw pgbouncer_up 1", up)
	}
	if most > DefaultMaxConnections || most == 0 {
		t.Errorf("pgBouncer saw up to %d exporter connections, want 1..%d", most, DefaultMaxConnections)
	}
	if n := target.Stat().NewConnsCount(); n > DefaultMaxConnections {
		t.Errorf("pool opened %d connections, want at most %d", n, DefaultMaxConnections)
	}
}

// TestRecoversDroppedConnection drops the exporter's idle connections
// between scrapes, as a pgBouncer restart or a firewall's idle timeout
// does. pgBouncer does not apply client_idle_timeout to the admin console,
// so a TCP relay in the test (real sockets, real pgBouncer behind it) cuts
// them. The next scrape must still answer, on a fresh connection.
func TestRecoversDroppedConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testenv.PgBouncerOptions{})
	r := newRelay(t, fmt.Sprintf("%s:%d", e.pb.Host, e.pb.Port))
	u, err := url.Parse(e.pb.StatsDSN())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = r.addr
	target := newTarget(t, u.String(), nil)
	if s := collect(t, target, 5*time.Second); s.get(t, "pgbouncer_up{}") != 1 {
		t.Fatal("first scrape: pgbouncer_up = 0")
	}
	// Fill the pool so that both of its connections are dropped.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { collect(t, target, 5*time.Second) })
	}
	wg.Wait()
	if n := target.Stat().TotalConns(); n != DefaultMaxConnections {
		t.Fatalf("pool holds %d connections, want %d", n, DefaultMaxConnections)
	}
	if n := r.cut(); n != DefaultMaxConnections {
		t.Fatalf("cut %d connections, want %d", n, DefaultMaxConnections)
	}
	s := collect(t, target, 5*time.Second)
	if s.get(t, "pgbouncer_up{}") != 1 {
		t.Errorf("scrape after the connections were dropped: pgbouncer_up = 0")
	}
	for _, c := range []string{CollectorPools, CollectorDatabases, CollectorStats, CollectorClients} {
		if got := s.get(t, fmt.Sprintf("redline_collector_success{collector=%q}", c)); got != 1 {
			t.Errorf("collector %s failed on a dropped connection", c)
		}
	}
}

// relay forwards TCP connections to a backend and can drop them all.
type relay struct {
	addr  string
	mu    sync.Mutex
	conns []net.Conn
}

func newRelay(t *testing.T, backend string) *relay {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: l.Addr().String()}
	t.Cleanup(func() {
		l.Close()
		r.cut()
	})
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", backend)
			if err != nil {
				client.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, client, server)
			r.mu.Unlock()
			go func() { _, _ = io.Copy(server, client); server.Close() }()
			go func() { _, _ = io.Copy(client, server); client.Close() }()
		}
	}()
	return r
}

// cut closes every relayed connection and returns how many pairs it cut.
func (r *relay) cut() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
	n := len(r.conns) / 2
	r.conns = nil
	return n
}

func TestInvalidDSNDoesNotLeakPassword(t *testing.T) {
	_, err := NewTarget(Options{DSN: "host=h password = S3cret port=abc"}, slog.New(slog.DiscardHandler))
	if err == nil || strings.Contains(err.Error(), "S3cret") || !strings.Contains(err.Error(), "invalid pgbouncer DSN: invalid port") {
		t.Errorf("NewTarget error: %v", err)
	}
}

// An unencoded '@' in the password: pgx would dial the password's tail as
// a host name and log it on every scrape. NewTarget refuses it.
func TestUnencodedAtInPasswordIsRefused(t *testing.T) {
	_, err := NewTarget(Options{DSN: "postgres://stats:ab@cdLeak@127.0.0.1:6432/pgbouncer"}, slog.New(slog.DiscardHandler))
	if err == nil || strings.Contains(err.Error(), "cdLeak") || !strings.Contains(err.Error(), "percent-encode it as %40") {
		t.Errorf("NewTarget error: %v", err)
	}
}
