package bench

import (
	"fmt"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// Exporter is a running exporter process under measurement.
type Exporter struct {
	Name    string
	URL     string // the scrape URL
	Version string
	cmd     *exec.Cmd
	log     string
	exited  chan struct{} // closed once the process has been reaped
}

// Pid is the exporter's process id (for its resident memory).
func (e *Exporter) Pid() int { return e.cmd.Process.Pid }

// Stop ends the exporter.
func (e *Exporter) Stop() {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
}

// LogTail is the end of the exporter's output, for reports of a failure.
func (e *Exporter) LogTail() string {
	b, _ := os.ReadFile(e.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}

// Start runs bin with args and env, logging to dir, and waits until url
// answers or the process exits (a failure is returned with its log).
func Start(name, bin string, args, env []string, url, dir string) (*Exporter, error) {
	log := filepath.Join(dir, name+".log")
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	e := &Exporter{Name: name, URL: url, cmd: cmd, log: log, exited: make(chan struct{})}
	var waitErr error
	go func() { waitErr = cmd.Wait(); f.Close(); close(e.exited) }()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case <-e.exited:
			return nil, fmt.Errorf("%s exited at start (%v): %s", name, waitErr, e.LogTail())
		case <-deadline:
			e.Stop()
			return nil, fmt.Errorf("%s did not answer within 20s: %s", name, e.LogTail())
		case <-time.After(100 * time.Millisecond):
		}
		// The landing page, not the scrape: a slow first scrape is
		// what we measure, not a start-up failure.
		if err := probeOnce(rootOf(url)); err == nil {
			return e, nil
		}
	}
}

// Version asks a binary for its version line ("--version").
func Version(bin string) string {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// TableQueries writes postgres_exporter's per-table queries (the
// pg_stat_user_tables and pg_statio_user_tables sections of the queries.yaml
// Debian ships as an example) to dir, for a like-for-like comparison of the
// dead-tuple signal.
func TableQueries(examples, dir string) (string, error) {
	b, err := os.ReadFile(examples)
	if err != nil {
		return "", err
	}
	var all map[string]any
	if err := yaml.Unmarshal(b, &all); err != nil {
		return "", err
	}
	keep := map[string]any{}
	for _, k := range []string{"pg_stat_user_tables", "pg_statio_user_tables"} {
		if v, ok := all[k]; ok {
			keep[k] = v
		}
	}
	out, err := yaml.Marshal(keep)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "postgres_exporter_queries.yaml")
	return path, os.WriteFile(path, out, 0o644)
}

// FormatBytes prints a size in MiB with one decimal.
func FormatBytes(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// rootOf is the landing page of a scrape URL.
func rootOf(scrapeURL string) string {
	if u, err := neturl.Parse(scrapeURL); err == nil {
		u.Path, u.RawQuery = "/", ""
		return u.String()
	}
	return scrapeURL
}
