package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redline-sre/redline/internal/testenv"
)

// StackOptions configures a whole redline deployment on one machine.
type StackOptions struct {
	// ExporterBin is the redline_exporter binary to run.
	ExporterBin string
	// RulegenBin is the rulegen binary the printed preflight commands
	// name (the preflight itself runs in-process); "rulegen" when empty.
	RulegenBin string
	// Dir receives the generated rules, Alertmanager config and dashboard
	// and the exporter's config; it must exist.
	Dir string
	// Spec shortens the platform spec's timings; its WebhookURL is set by
	// the stack to its own receiver.
	Spec SpecOverrides
	// BehindColumnTTL is the exporter's --postgres.behind-column-ttl.
	BehindColumnTTL time.Duration
	// Interval is Prometheus's scrape and evaluation interval.
	Interval time.Duration
	// StallPeriod and Stall make the platform's event loop stall for Stall
	// once every StallPeriod.
	StallPeriod, Stall time.Duration
	// Log receives the webhook's lines (nil: silent).
	Log io.Writer
	// VMAlert evaluates the rules with vmalert against VictoriaMetrics
	// (which scrapes the same targets) instead of Prometheus.
	VMAlert bool
}

// Stack is the running deployment: PostgreSQL and pgBouncer with the
// platform's database, the platform stand-in, redline_exporter,
// Prometheus with the generated rules, Alertmanager with the generated
// route, and the rollback webhook receiver.
type Stack struct {
	Postgres     *testenv.Postgres
	PgBouncer    *testenv.PgBouncer
	Exporter     *testenv.Command
	Prometheus   *testenv.Prometheus
	Alertmanager *testenv.Alertmanager
	// VictoriaMetrics and VMAlert replace Prometheus with StackOptions.VMAlert.
	VictoriaMetrics *testenv.VictoriaMetrics
	VMAlert         *testenv.VMAlert
	Webhook         *Webhook

	ExporterURL string
	PlatformURL string
	WebhookURL  string
	// RulegenBin is StackOptions.RulegenBin.
	RulegenBin string
	// AppDSN connects to the platform's database through pgBouncer's
	// "trading" pool (pool_size 2).
	AppDSN string
	// TradingDSN connects to the platform's database directly, as superuser.
	TradingDSN string

	cancel  context.CancelFunc
	servers []*http.Server
}

// Database names and roles the stack creates.
const (
	TradingDB       = "trading"
	TradingPoolSize = 2
	appUser         = "app"
	monitorUser     = "redline"
)

// StartStack brings the deployment up, ready: every component answers and
// Prometheus has the generated rules loaded.
func StartStack(ctx context.Context, o StackOptions) (_ *Stack, err error) {
	s := &Stack{RulegenBin: o.RulegenBin}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel

	if s.Postgres, err = testenv.StartPostgres(testenv.PostgresOptions{}); err != nil {
		return s, err
	}
	appPassword, monitorPassword := s.Postgres.Password+"a", s.Postgres.Password+"m"
	if err = s.Postgres.CreateDatabase(ctx, TradingDB); err != nil {
		return s, err
	}
	if err = s.Postgres.CreateRole(ctx, appUser, appPassword); err != nil {
		return s, err
	}
	// Least privilege: pg_monitor for the statistics, pg_read_all_data to
	// read sequence values (docs/postgres-collectors.md). PostgreSQL 13 has
	// no pg_read_all_data: default privileges on what the demo's roles
	// create give the same reach there.
	monitorRoles := "IN ROLE pg_monitor, pg_read_all_data"
	if s.Postgres.Version < 140000 {
		monitorRoles = "IN ROLE pg_monitor"
	}
	if err = s.Postgres.CreateRole(ctx, monitorUser, monitorPassword, monitorRoles); err != nil {
		return s, err
	}
	if s.Postgres.Version < 140000 {
		var grants []string
		for _, owner := range []string{s.Postgres.User, appUser} {
			for _, what := range []string{"TABLES", "SEQUENCES"} {
				grants = append(grants, fmt.Sprintf("ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA public GRANT SELECT ON %s TO %s",
					pgx.Identifier{owner}.Sanitize(), what, pgx.Identifier{monitorUser}.Sanitize()))
			}
		}
		if err = s.Postgres.Exec(ctx, TradingDB, grants...); err != nil {
			return s, err
		}
	}
	if err = s.Postgres.Exec(ctx, TradingDB, "GRANT ALL ON SCHEMA public TO "+appUser); err != nil {
		return s, err
	}
	s.TradingDSN = s.Postgres.DSN(TradingDB)

	s.PgBouncer, err = testenv.StartPgBouncer(s.Postgres, testenv.PgBouncerOptions{
		Databases: []testenv.PgBouncerDatabase{{Name: TradingDB, PoolSize: TradingPoolSize}},
		Users:     map[string]string{appUser: appPassword},
	})
	if err != nil {
		return s, err
	}
	s.AppDSN = s.PgBouncer.DSN(appUser, appPassword, TradingDB)

	platform := NewPlatform()
	platform.Run(runCtx, orDuration(o.StallPeriod, 3*time.Second), orDuration(o.Stall, 120*time.Millisecond))
	if s.PlatformURL, err = s.serve(platform.Handler()); err != nil {
		return s, err
	}
	s.Webhook = NewWebhook(o.Log)
	if s.WebhookURL, err = s.serve(s.Webhook); err != nil {
		return s, err
	}
	s.WebhookURL += "/rollback"

	spec := o.Spec
	spec.WebhookURL = s.WebhookURL
	data, err := PlatformSpec(spec)
	if err != nil {
		return s, err
	}
	if err = os.WriteFile(filepath.Join(o.Dir, "spec.yml"), data, 0o644); err != nil {
		return s, err
	}
	if err = GenerateInto(o.Dir, "platform spec (demo timings)", data); err != nil {
		return s, err
	}

	if err = s.startExporter(o, monitorPassword); err != nil {
		return s, err
	}
	if s.Alertmanager, err = testenv.StartAlertmanager(filepath.Join(o.Dir, "alertmanager", "platform.yml")); err != nil {
		return s, err
	}
	interval := orDuration(o.Interval, time.Second)
	scrape := []testenv.ScrapeTarget{
		{Job: "redline", Targets: []string{hostPort(s.ExporterURL)}},
		// The platform spec selects the application by job="platform".
		{Job: "platform", Targets: []string{hostPort(s.PlatformURL)}},
	}
	rules := filepath.Join(o.Dir, "rules", "platform.rules.yml")
	if o.VMAlert {
		if s.VictoriaMetrics, err = testenv.StartVictoriaMetrics(testenv.VictoriaMetricsOptions{ScrapeInterval: interval, Scrape: scrape}); err != nil {
			return s, err
		}
		s.VMAlert, err = testenv.StartVMAlert(testenv.VMAlertOptions{
			RuleFiles: []string{rules}, Datasource: s.VictoriaMetrics.URL,
			Notifiers: []string{s.Alertmanager.URL}, EvaluationInterval: interval,
		})
		return s, err
	}
	s.Prometheus, err = testenv.StartPrometheus(testenv.PrometheusOptions{
		ScrapeInterval:     interval,
		EvaluationInterval: interval,
		Scrape:             scrape,
		RuleFiles:          []string{rules},
		Alertmanagers:      []string{s.Alertmanager.Addr},
	})
	return s, err
}

// startExporter writes the exporter's config — pgBouncer's stats console,
// the PostgreSQL server as the least-privileged monitor role, and an
// event-loop probe on the platform's no-op route, a security-header probe on
// its page — and runs it.
func (s *Stack) startExporter(o StackOptions, monitorPassword string) error {
	port, err := testenv.FreePort()
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(`pgbouncer:
  - name: pgbouncer
    dsn: %q
postgres:
  - name: postgres
    dsn: %q
probes:
  - name: platform
    url: %q
headers:
  - name: platform
    url: %q
`, s.PgBouncer.StatsDSN(), s.Postgres.DSNFor(monitorUser, monitorPassword, "postgres"), s.PlatformURL+"/noop", s.PlatformURL+"/")
	cfgPath := filepath.Join(o.Dir, "redline_exporter.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return err
	}
	s.ExporterURL = "http://127.0.0.1:" + strconv.Itoa(port)
	s.Exporter, err = testenv.StartCommand("redline_exporter", o.ExporterBin, []string{
		"--config.file=" + cfgPath,
		"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
		"--postgres.behind-column-ttl=" + orDuration(o.BehindColumnTTL, 30*time.Second).String(),
	}, nil, s.ExporterURL+"/-/ready")
	return err
}

// serve runs h on a free loopback port until Stop and returns its URL.
func (s *Stack) serve(h http.Handler) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	s.servers = append(s.servers, srv)
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), nil
}

// Stop ends everything the stack started, newest first, and removes the
// servers' data.
func (s *Stack) Stop() error {
	var errs []error
	if s.Prometheus != nil {
		errs = append(errs, s.Prometheus.Stop())
	}
	if s.VMAlert != nil {
		errs = append(errs, s.VMAlert.Stop())
	}
	if s.VictoriaMetrics != nil {
		errs = append(errs, s.VictoriaMetrics.Stop())
	}
	if s.Alertmanager != nil {
		errs = append(errs, s.Alertmanager.Stop())
	}
	if s.Exporter != nil {
		errs = append(errs, s.Exporter.Stop())
	}
	for _, srv := range s.servers {
		_ = srv.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
	if s.PgBouncer != nil {
		errs = append(errs, s.PgBouncer.Stop())
	}
	if s.Postgres != nil {
		errs = append(errs, s.Postgres.Stop())
	}
	return errors.Join(errs...)
}

func hostPort(url string) string {
	if u, err := neturl.Parse(url); err == nil {
		return u.Host
	}
	return url
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
