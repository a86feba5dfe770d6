//go:build unix

package eventloop

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// noopServerEnv makes the test binary act as the benchmark's target, so the
// target's CPU is not counted in the exporter's.
const noopServerEnv = "REDLINE_EVENTLOOP_NOOP_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(noopServerEnv) != "" {
		os.Exit(serveNoop())
	}
	os.Exit(m.Run())
}

// serveNoop answers every request with 204, prints its address and runs
// until stdin closes (the parent exits or kills it).
func serveNoop() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(l.Addr().String())
	go func() {
		_ = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}))
	}()
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// startNoopProcess runs the no-op target in a child process.
func startNoopProcess(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), noopServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("no-op server did not start: %v", err)
	}
	return strings.TrimSpace(addr)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProbeCPU measures the exporter side of the load: 4 probes
// at 20 requests/s each (the 50 ms default) against a no-op target in
// another process. One op is one second of probing; run it with
// -benchtime 10x for a 10 s measurement. It reports the process's CPU time
// (getrusage: user + system) as a percentage of one core and per request.
//
// The plain-client sub-benchmark sends the same 80 requests/s from one
// goroutine with net/http's default client, closed loop: the floor any Go
// HTTP prober pays on this machine, to read the prober's number against.
func BenchmarkProbeCPU(b *testing.B) {
	addr := startNoopProcess(b)
	b.Run("prober", func(b *testing.B) { benchProber(b, addr) })
	b.Run("plain-client", func(b *testing.B) { benchPlainClient(b, addr) })
}

func benchProber(b *testing.B, addr string) {
	reg := prometheus.NewRegistry()
	m := NewManager(reg, nil)
	defer m.Stop()
	var probes []ProbeConfig
	for i := range 4 {
		probes = append(probes, ProbeConfig{Name: fmt.Sprintf("p%d", i), URL: "http://" + addr + "/loop"})
	}
	if err := m.Apply(probes); err != nil {
		b.Fatal(err)
	}
	requests := func() uint64 {
		var n uint64
		for _, p := range probes {
			n += durationHistogram(b, reg, p.Name).GetSampleCount()
		}
		return n
	}
	time.Sleep(time.Second) // connections dialed, steady state

	req0, cpu0, wall0 := requests(), cpuTime(), time.Now()
	b.ResetTimer()
	for range b.N {
		time.Sleep(time.Second)
	}
	b.StopTimer()
	reportCPU(b, cpuTime()-cpu0, time.Since(wall0), requests()-req0)

	for _, p := range probes {
		for reason, v := range failures(b, reg, p.Name) {
			if v != 0 {
				b.Errorf("probe %s: %v %s failures against a no-op target", p.Name, v, reason)
			}
		}
	}
}

func benchPlainClient(b *testing.B, addr string) {
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	get := func() {
		resp, err := client.Get("http://" + addr + "/loop")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	get()
	ticker := time.NewTicker(time.Second / 80)
	defer ticker.Stop()
	var reqs uint64
	cpu0, wall0 := cpuTime(), time.Now()
	b.ResetTimer()
	for range b.N {
		for range 80 {
			<-ticker.C
			get()
			reqs++
		}
	}
	b.StopTimer()
	reportCPU(b, cpuTime()-cpu0, time.Since(wall0), reqs)
}

func reportCPU(b *testing.B, cpu, wall time.Duration, reqs uint64) {
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu")
	b.ReportMetric(float64(reqs)/wall.Seconds(), "req/s")
	if reqs > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(reqs), "cpu-µs/req")
	}
}
