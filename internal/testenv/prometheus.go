package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// ScrapeTarget is one scrape job for the throwaway Prometheus.
type ScrapeTarget struct {
	Job         string
	Targets     []string // host:port
	MetricsPath string   // default /metrics
	Params      map[string][]string
}

// PrometheusOptions configures a throwaway Prometheus server.
type PrometheusOptions struct {
	ScrapeInterval     time.Duration // default 1s
	EvaluationInterval time.Duration // default 1s
	Scrape             []ScrapeTarget
	RuleFiles          []string // absolute paths
	Alertmanagers      []string // host:port of Alertmanagers to send alerts to
}

// Prometheus is a running throwaway Prometheus server.
type Prometheus struct {
	Dir  string
	URL  string // http://127.0.0.1:port
	Addr string // 127.0.0.1:port
	proc *process
}

// StartPrometheus writes a config for opts and starts Prometheus with its
// TSDB in a temporary directory.
func StartPrometheus(opts PrometheusOptions) (*Prometheus, error) {
	return withPortRetry(func() (*Prometheus, error) { return startPrometheusOnce(opts) })
}

func startPrometheusOnce(opts PrometheusOptions) (*Prometheus, error) {
	bin, err := LookPath("prometheus")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redline-prometheus-")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &Prometheus{Dir: dir, Addr: "127.0.0.1:" + strconv.Itoa(port)}
	p.URL = "http://" + p.Addr

	cfg := map[string]any{
		"global": map[string]any{
			"scrape_interval":     durationOr(opts.ScrapeInterval, time.Second),
			"scrape_timeout":      durationOr(opts.ScrapeInterval, time.Second),
			"evaluation_interval": durationOr(opts.EvaluationInterval, time.Second),
		},
	}
	if len(opts.RuleFiles) > 0 {
		cfg["rule_files"] = opts.RuleFiles
	}
	if len(opts.Alertmanagers) > 0 {
		cfg["alerting"] = map[string]any{
			"alertmanagers": []any{map[string]any{"static_configs": []any{map[string]any{"targets": opts.Alertmanagers}}}},
		}
	}
	var jobs []any
	for _, s := range opts.Scrape {
		job := map[string]any{"job_name": s.Job, "static_configs": []any{map[string]any{"targets": s.Targets}}}
		if s.MetricsPath != "" {
			job["metrics_path"] = s.MetricsPath
		}
		if len(s.Params) > 0 {
			job["params"] = s.Params
		}
		jobs = append(jobs, job)
	}
	if len(jobs) > 0 {
		cfg["scrape_configs"] = jobs
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p.proc, err = startProcess("prometheus", bin, []string{
		"--config.file=" + cfgPath,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + p.Addr,
		"--web.enable-lifecycle",
	}, filepath.Join(dir, "prometheus.log"), nil, syscall.SIGTERM)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := p.proc.waitReady(httpReady(p.URL + "/-/ready")); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// NewPrometheus starts Prometheus for a test and stops it when the test ends.
func NewPrometheus(t testing.TB, opts PrometheusOptions) *Prometheus {
	t.Helper()
	p, err := StartPrometheus(opts)
	return forTest(t, p, err)
}

// Stop ends Prometheus and removes its directory.
func (p *Prometheus) Stop() error {
	var err error
	if p.proc != nil {
		err = p.proc.Stop()
	}
	os.RemoveAll(p.Dir)
	return err
}

// Log returns the end of Prometheus's log, for test failure messages.
func (p *Prometheus) Log() string { return p.proc.logTail() }

func durationOr(d, def time.Duration) string {
	if d == 0 {
		d = def
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}
