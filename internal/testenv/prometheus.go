package testenv

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// ScrapeTarget is one scrape job for the throwaway Prometheus.
type ScrapeTarget struct {
	Job         string
	Targets     []string // host:port
	MetricsPath string   // default /metrics
	Params      map[string][]string
	// Labels are target labels on every series of these targets (as a
	// pod label a ServiceMonitor copies). ScrapeTargets of the same Job
	// are one job with one static config each.
	Labels map[string]string
	// RelabelConfigs are the job's relabel_configs (as YAML maps), e.g.
	// the multi-target rewrite or a hashmod shard; the first ScrapeTarget
	// of a Job sets them.
	RelabelConfigs []map[string]any
}

// PrometheusOptions configures a throwaway Prometheus server.
type PrometheusOptions struct {
	ScrapeInterval     time.Duration // default 1s
	EvaluationInterval time.Duration // default 1s
	Scrape             []ScrapeTarget
	RuleFiles          []string // absolute paths
	Alertmanagers      []string // host:port of Alertmanagers to send alerts to
	// BasicAuth, when set, makes Prometheus's API and UI require one of
	// these user names with its password (--web.config.file).
	BasicAuth map[string]string
	// Backfill is OpenMetrics text (ending in "# EOF") written into the
	// TSDB before Prometheus starts (backfill.go): past samples to query.
	Backfill string
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
	var readyAuth *url.Userinfo
	for user, password := range opts.BasicAuth {
		readyAuth = url.UserPassword(user, password)
		break
	}
	s, err := startHTTPService("prometheus", bin, readyAuth, func(dir, addr string) ([]string, error) {
		cfgPath := filepath.Join(dir, "prometheus.yml")
		if opts.Backfill != "" {
			if err := backfill(filepath.Join(dir, "data"), opts.Backfill); err != nil {
				return nil, err
			}
		}
		args := []string{
			"--config.file=" + cfgPath,
			"--storage.tsdb.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--web.enable-lifecycle",
		}
		if len(opts.BasicAuth) > 0 {
			web, err := webConfig(opts.BasicAuth)
			if err != nil {
				return nil, err
			}
			webPath := filepath.Join(dir, "web.yml")
			if err := os.WriteFile(webPath, web, 0o600); err != nil {
				return nil, err
			}
			args = append(args, "--web.config.file="+webPath)
		}
		return args, os.WriteFile(cfgPath, cfg, 0o644)
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
	byName := map[string]map[string]any{}
	for _, s := range opts.Scrape {
		static := map[string]any{"targets": s.Targets}
		if len(s.Labels) > 0 {
			static["labels"] = s.Labels
		}
		if job, ok := byName[s.Job]; ok {
			job["static_configs"] = append(job["static_configs"].([]any), static)
			continue
		}
		job := map[string]any{"job_name": s.Job, "static_configs": []any{static}}
		if s.MetricsPath != "" {
			job["metrics_path"] = s.MetricsPath
		}
		if len(s.Params) > 0 {
			job["params"] = s.Params
		}
		if len(s.RelabelConfigs) > 0 {
			job["relabel_configs"] = s.RelabelConfigs
		}
		byName[s.Job] = job
		jobs = append(jobs, job)
	}
	if len(jobs) > 0 {
		cfg["scrape_configs"] = jobs
	}
	return yaml.Marshal(cfg)
}

// webConfig is the exporter-toolkit web configuration that requires basic
// auth. bcrypt's lowest cost keeps each request cheap: these are test
// passwords, hashed only because the format asks for a hash.
func webConfig(users map[string]string) ([]byte, error) {
	hashed := map[string]string{}
	for user, password := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			return nil, err
		}
		hashed[user] = string(h)
	}
	return yaml.Marshal(map[string]any{"basic_auth_users": hashed})
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
