package testenv

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// VictoriaMetricsOptions configures a throwaway single-node VictoriaMetrics
// that scrapes the given targets itself.
type VictoriaMetricsOptions struct {
	ScrapeInterval time.Duration // default 1s
	Scrape         []ScrapeTarget
}

// VictoriaMetrics is a running throwaway VictoriaMetrics server.
type VictoriaMetrics struct{ httpService }

// StartVictoriaMetrics starts victoria-metrics with its storage in a
// temporary directory. Queries see samples as soon as they are written
// (-search.latencyOffset defaults to 30s, which would hide a short test's
// data from vmalert).
func StartVictoriaMetrics(opts VictoriaMetricsOptions) (*VictoriaMetrics, error) {
	return withPortRetry(func() (*VictoriaMetrics, error) { return startVictoriaMetricsOnce(opts) })
}

func startVictoriaMetricsOnce(opts VictoriaMetricsOptions) (*VictoriaMetrics, error) {
	bin, err := LookPath("victoria-metrics")
	if err != nil {
		return nil, err
	}
	s, err := startHTTPService("victoria-metrics", bin, nil, func(dir, addr string) ([]string, error) {
		args := []string{
			"-storageDataPath=" + filepath.Join(dir, "data"),
			"-httpListenAddr=" + addr,
			"-search.latencyOffset=0s",
			"-search.disableCache",
			"-loggerLevel=WARN",
		}
		if len(opts.Scrape) > 0 {
			cfg, err := vmScrapeConfig(opts)
			if err != nil {
				return nil, err
			}
			p := filepath.Join(dir, "scrape.yml")
			if err := os.WriteFile(p, cfg, 0o644); err != nil {
				return nil, err
			}
			args = append(args, "-promscrape.config="+p)
		}
		return args, nil
	})
	if err != nil {
		return nil, err
	}
	return &VictoriaMetrics{*s}, nil
}

func vmScrapeConfig(opts VictoriaMetricsOptions) ([]byte, error) {
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
	return yaml.Marshal(map[string]any{
		"global":         map[string]any{"scrape_interval": durationOr(opts.ScrapeInterval, time.Second)},
		"scrape_configs": jobs,
	})
}

// NewVictoriaMetrics starts VictoriaMetrics for a test and stops it when
// the test ends.
func NewVictoriaMetrics(t testing.TB, opts VictoriaMetricsOptions) *VictoriaMetrics {
	t.Helper()
	vm, err := StartVictoriaMetrics(opts)
	return forTest(t, vm, err)
}

// VMAlertOptions configures vmalert evaluating rule files against a
// VictoriaMetrics: it queries it, writes recording rules and alert state
// back to it, and reads the state on restart.
type VMAlertOptions struct {
	RuleFiles          []string // absolute paths
	Datasource         string   // URL of VictoriaMetrics
	Notifiers          []string // URLs of Alertmanagers
	EvaluationInterval time.Duration
}

// VMAlert is a running vmalert.
type VMAlert struct{ httpService }

// StartVMAlert starts vmalert.
func StartVMAlert(opts VMAlertOptions) (*VMAlert, error) {
	return withPortRetry(func() (*VMAlert, error) { return startVMAlertOnce(opts) })
}

func startVMAlertOnce(opts VMAlertOptions) (*VMAlert, error) {
	bin, err := LookPath("vmalert")
	if err != nil {
		return nil, err
	}
	s, err := startHTTPService("vmalert", bin, nil, func(_, addr string) ([]string, error) {
		args := []string{
			"-httpListenAddr=" + addr,
			"-datasource.url=" + opts.Datasource,
			"-remoteWrite.url=" + opts.Datasource,
			"-remoteRead.url=" + opts.Datasource,
			"-evaluationInterval=" + durationOr(opts.EvaluationInterval, time.Second),
			"-remoteWrite.flushInterval=" + durationOr(opts.EvaluationInterval, time.Second),
			"-loggerLevel=WARN",
		}
		for _, f := range opts.RuleFiles {
			args = append(args, "-rule="+f)
		}
		for _, n := range opts.Notifiers {
			args = append(args, "-notifier.url="+n)
		}
		return args, nil
	})
	if err != nil {
		return nil, err
	}
	return &VMAlert{*s}, nil
}

// NewVMAlert starts vmalert for a test and stops it when the test ends.
func NewVMAlert(t testing.TB, opts VMAlertOptions) *VMAlert {
	t.Helper()
	v, err := StartVMAlert(opts)
	return forTest(t, v, err)
}
