package eventloop

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redline-sre/redline/internal/testenv"
)

// A probe URL's password and query token never reach the log, at any
// level, while the probe starts, fails against a real closed port and
// stops.
func TestProbeLogsNoSecrets(t *testing.T) {
	addr := closedPort(t)

	var logs testenv.SyncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := NewManager(prometheus.NewRegistry(), logger)
	if err := m.Apply([]ProbeConfig{{
		Name: "app", URL: "http://probe:pw-s3cret@" + addr + "/loop?token=tok-s3cret#frag-s3cret", Interval: 10 * time.Millisecond,
	}}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "probe fail"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no probe failure logged in 10s:\n%s", logs.String())
		}
	}
	m.Stop()

	out := logs.String()
	if strings.Contains(out, "s3cret") {
		t.Errorf("the log shows a secret:\n%s", out)
	}
	if !strings.Contains(out, "http://probe:xxxxx@"+addr+"/loop?xxxxx") {
		t.Errorf("the log does not name the probe's URL without its secrets:\n%s", out)
	}
}
