package testenv

import (
	"fmt"
	"os"
	"path/filepath"
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
type Prometheus struct{ httpService }

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
	cfg, err := prometheusConfig(opts)
	if err != nil {
		return nil, err
	}
	s, err := startHTTPService("prometheus", bin, func(dir, addr string) ([]string, error) {
		cfgPath := filepath.Join(dir, "prometheus.yml")
		return []string{
			"--config.file=" + cfgPath,
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--web.enable-lifecycle",
		}, os.WriteFile(cfgPath, cfg, 0o644)
	})
	if err != nil {
		return nil, err
	}
	return &Prometheus{*s}, nil
}

// prometheusConfig is the YAML configuration for opts.
func prometheusConfig(opts PrometheusOptions) ([]byte, error) {
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
	return yaml.Marshal(cfg)
}

// NewPrometheus starts Prometheus for a test and stops it when the test ends.
func NewPrometheus(t testing.TB, opts PrometheusOptions) *Prometheus {
	t.Helper()
	p, err := StartPrometheus(opts)
	return forTest(t, p, err)
}

func durationOr(d, def time.Duration) string {
	if d == 0 {
		d = def
	}
	return fmt.Sprintf("%dms", d.Milliseconds())
}
