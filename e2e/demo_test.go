package e2e

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

// TestMakeDemo runs `make demo` as a user would and follows it through
// its phases: the endpoints it prints answer, the preflight before the
// workload is GO, the workload starts, the preflight during it is NO-GO,
// a rollback reaches the webhook. Then it interrupts the demo as Ctrl-C
// does (DEMO_SECONDS bounds a demo that never gets there) and checks that
// it stops and removes its data.
func TestMakeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole demo")
	}
	for _, bin := range []string{"initdb", "pgbouncer", "prometheus", "alertmanager"} {
		testenv.Binary(t, bin)
	}
	// The demo needs about 90s; the rest is a first build on a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", "-C", "..", "demo", "DEMO_SECONDS=170")
	// On a timeout, interrupt make and the demo under it as Ctrl-C would, so
	// the demo still stops its servers; kill them if that does not work.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var output strings.Builder
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	endpoint := regexp.MustCompile(`^\s+(Prometheus|Alertmanager|redline_exporter|platform stand-in)\s+(http://\S+)`)
	urls := map[string]string{}
	var dataDir string
	checked := false
	// The phases in the order they must come.
	phases := []struct {
		name string
		seen func(string) bool
	}{
		{"the preflight before the workload", func(l string) bool { return beforeWorkload(t, l) }},
		{"the workload", func(l string) bool { return strings.Contains(l, "workload: saturating pgBouncer pool") }},
		{"the NO-GO during the saturation, naming the pool and the sequence", func(l string) bool {
			return strings.HasPrefix(l, "NO-GO: ") && strings.Contains(l, "trigger:PgBouncerPoolSaturated") && strings.Contains(l, "trigger:SequenceBehindColumn")
		}},
		{"a rollback at the webhook", func(l string) bool { return strings.Contains(l, "ROLLBACK WEBHOOK FIRING") }},
	}
	phase := 0
	for line := range lines {
		output.WriteString(line + "\n")
		if phase < len(phases) && phases[phase].seen(line) {
			phase++
			if phase == len(phases) {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			}
		}
		if m := endpoint.FindStringSubmatch(line); m != nil {
			urls[m[1]] = m[2]
		}
		if i := strings.Index(line, "/rules/platform.rules.yml"); i > 0 {
			dataDir = strings.TrimSpace(line[:i])
		}
		if strings.Contains(line, "What to look at") && !checked {
			checked = true
			checkEndpoints(t, urls)
		}
	}
	// Interrupted, make itself exits non-zero; the demo under it must
	// still stop cleanly (checked below).
	if err := cmd.Wait(); err != nil && phase < len(phases) {
		t.Fatalf("make demo: %v\n%s", err, output.String())
	}
	if !checked {
		t.Fatalf("the demo never printed its endpoints:\n%s", output.String())
	}
	if phase < len(phases) {
		t.Errorf("the demo never showed %s:\n%s", phases[phase].name, output.String())
	}
	if !strings.Contains(output.String(), "$ bin/rulegen preflight --spec ") {
		t.Errorf("the demo does not print the preflight command with the binary's path (bin/rulegen):\n%s", output.String())
	}
	if !strings.Contains(output.String(), "stopping everything") {
		t.Errorf("the demo did not say it stopped:\n%s", output.String())
	}
	if dataDir == "" {
		t.Errorf("the demo did not print where its generated files are:\n%s", output.String())
	} else if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("demo data %s left behind", dataDir)
	}
}

// workloadTriggers are the triggers the demo's workload fires.
var workloadTriggers = []string{"trigger:PgBouncerPoolSaturated", "trigger:SequenceBehindColumn", "trigger:DeadTupleBloat"}

// beforeWorkload accepts the summary of the preflight before the
// workload: GO, or — on a machine so loaded that the demo's own platform
// is slow or its exporter starved (ApiLatencyP95High, the event-loop
// checks) — a NO-GO that blames none of the workload's triggers, which is
// logged. What the test proves is the change the workload makes: its
// triggers appear in the NO-GO after it, not before.
func beforeWorkload(t *testing.T, line string) bool {
	if strings.HasPrefix(line, "GO: ") {
		return true
	}
	if !strings.HasPrefix(line, "NO-GO: ") {
		return false
	}
	for _, tr := range workloadTriggers {
		if strings.Contains(line, tr) {
			t.Errorf("the preflight before the workload already blames it: %s", line)
			return false
		}
	}
	t.Logf("the preflight before the workload is NO-GO on this loaded machine, without the workload's triggers: %s", line)
	return true
}

func checkEndpoints(t *testing.T, urls map[string]string) {
	t.Helper()
	want := map[string]struct{ path, contains string }{
		"Prometheus":        {"/-/ready", ""},
		"Alertmanager":      {"/-/ready", ""},
		"redline_exporter":  {"", `pgbouncer_up{target="pgbouncer"} 1`},
		"platform stand-in": {"", "http_request_duration_seconds_bucket"},
	}
	for name, w := range want {
		u, ok := urls[name]
		if !ok {
			t.Errorf("the demo printed no URL for %s", name)
			continue
		}
		resp, err := http.Get(u + w.path)
		if err != nil {
			t.Errorf("%s %s: %v", name, u, err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s: %s", name, u+w.path, resp.Status)
		}
		if w.contains != "" && !strings.Contains(string(body), w.contains) {
			t.Errorf("%s %s does not contain %q", name, u, w.contains)
		}
	}
}
