// Command redline_exporter serves pgBouncer, PostgreSQL and event-loop
// signals to Prometheus. See docs/exporter.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	toolkit "github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/config"
	"github.com/redline-sre/redline/exporter/lifecycle"
	"github.com/redline-sre/redline/exporter/postgres"
	"github.com/redline-sre/redline/exporter/web"
)

const name = "redline_exporter"

func main() {
	setGCPercent(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// gcPercent is the exporter's GOGC when the environment sets none. Its
// heap is mostly long-lived caches (sequence catalogs, behind-column
// comparisons), which Go's default of 100 lets grow to twice their size
// before collecting: at 100,000 tables 41.5 MiB resident instead of
// 32.7 MiB (docs/benchmarks.md), for collections twice as often.
const gcPercent = 50

// setGCPercent applies gcPercent unless GOGC is set.
func setGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// run is the whole program; tests call it in-process. It returns the exit
// code: 0 after a clean shutdown (ctx done) or a passing --config.check, 1 on
// a runtime or config error, 2 on bad flags.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(name, "Exports pgBouncer, PostgreSQL and event-loop signals for deploy safety.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.Version(version.Print(name))
	app.HelpFlag.Short('h')

	webFlags := kingpinflag.AddFlags(app, ":9961")
	telemetryPath := app.Flag("web.telemetry-path", "Path under which to expose every target's metrics and the exporter's own.").Default("/metrics").String()
	readTimeout := app.Flag("web.read-timeout", "Longest time to read one HTTP request, headers and body; a client sending slower is disconnected.").Default("30s").Duration()
	idleTimeout := app.Flag("web.idle-timeout", "How long a keep-alive HTTP connection may stay idle between requests before the exporter closes it.").Default("30s").Duration()
	configFile := app.Flag("config.file", "YAML file listing named targets (see docs/exporter.md). Reloaded on SIGHUP and POST /-/reload.").Envar("REDLINE_CONFIG_FILE").String()
	configCheck := app.Flag("config.check", "Validate the configuration (file and flags) and exit: 0 when valid, 1 when not.").Bool()
	var flags config.Flags
	app.Flag("pgbouncer.dsn", "One pgBouncer admin console to scrape, named \""+config.FlagPgBouncerName+"\". Prefer the environment or the _FILE form: flags show in ps.").Envar("REDLINE_PGBOUNCER_DSN").StringVar(&flags.PgBouncerDSN)
	app.Flag("pgbouncer.dsn-file", "File holding the --pgbouncer.dsn value (for secrets).").Envar("REDLINE_PGBOUNCER_DSN_FILE").StringVar(&flags.PgBouncerDSNFile)
	app.Flag("postgres.dsn", "One PostgreSQL server to scrape, named \""+config.FlagPostgresName+"\".").Envar("REDLINE_POSTGRES_DSN").StringVar(&flags.PostgresDSN)
	app.Flag("postgres.dsn-file", "File holding the --postgres.dsn value (for secrets).").Envar("REDLINE_POSTGRES_DSN_FILE").StringVar(&flags.PostgresDSNFile)
	app.Flag("eventloop.url", "One HTTP endpoint to probe for event-loop lag, named by --eventloop.name.").Envar("REDLINE_EVENTLOOP_URL").StringVar(&flags.EventloopURL)
	app.Flag("eventloop.name", "The probe label of --eventloop.url's probe; the default is what the platform spec selects.").Default(config.FlagProbeName).Envar("REDLINE_EVENTLOOP_NAME").StringVar(&flags.EventloopName)
	app.Flag("headers.url", "One HTTP page to check for the security headers Content-Security-Policy and Cross-Origin-Embedder-Policy every 30s, probe named \""+config.FlagProbeName+"\" (headers: in the config file for more).").Envar("REDLINE_HEADERS_URL").StringVar(&flags.HeadersURL)
	app.Flag("headers.url-file", "File holding the --headers.url value.").Envar("REDLINE_HEADERS_URL_FILE").StringVar(&flags.HeadersURLFile)
	app.Flag("eventloop.url-file", "File holding the --eventloop.url value (for a URL with credentials).").Envar("REDLINE_EVENTLOOP_URL_FILE").StringVar(&flags.EventloopURLFile)
	pg := postgres.Defaults()
	app.Flag("postgres.top-tables", "Tables per database with per-table dead-tuple series (those with the most dead tuples).").Default(strconv.Itoa(pg.TopTables)).IntVar(&pg.TopTables)
	app.Flag("postgres.top-sequences", "Sequences per database with per-sequence exhaustion series (those with the highest used ratio).").Default(strconv.Itoa(pg.TopSequences)).IntVar(&pg.TopSequences)
	app.Flag("postgres.behind-column-ttl", "How long a sequence-behind-column result is served before a background refresh.").Default(pg.BehindColumnTTL.String()).DurationVar(&pg.BehindColumnTTL)
	app.Flag("postgres.behind-column-max-runtime", "Cap on one sequence-behind-column refresh's column lookups; the next refresh resumes where it stopped.").Default(pg.BehindColumnMaxRuntime.String()).DurationVar(&pg.BehindColumnMaxRuntime)
	app.Flag("postgres.cache-above", "Databases with more sequences (sequences collector) or tables (dead_tuples) than this are read in the background and served from memory; smaller ones on every scrape.").Default(strconv.Itoa(pg.CacheAbove)).IntVar(&pg.CacheAbove)
	app.Flag("postgres.cache-max-age", "The oldest a cached sequences or dead_tuples result may be when served; a refresh starts at half of it.").Default(pg.CacheMaxAge.String()).DurationVar(&pg.CacheMaxAge)
	app.Flag("postgres.statement-timeout", "statement_timeout of the exporter's PostgreSQL sessions.").Default(pg.StatementTimeout.String()).DurationVar(&pg.StatementTimeout)
	app.Flag("postgres.lock-timeout", "lock_timeout of the exporter's PostgreSQL sessions: no query waits longer behind another session's lock.").Default(pg.LockTimeout.String()).DurationVar(&pg.LockTimeout)
	timeoutOffset := app.Flag("scrape.timeout-offset", "Subtracted from Prometheus's X-Prometheus-Scrape-Timeout-Seconds to get the collection deadline.").Default("500ms").Duration()
	defaultTimeout := app.Flag("scrape.default-timeout", "Collection deadline when the scrape does not send X-Prometheus-Scrape-Timeout-Seconds.").Default("10s").Duration()
	logConfig := &promslog.Config{Writer: stderr}
	promslogflag.AddFlags(app, logConfig)
	collector.AddFlags(app)

	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	logger := promslog.New(logConfig)
	load := func() (*config.Config, error) { return config.Load(*configFile, flags) }
	kinds := builders(pg)

	if *configCheck {
		if err := checkConfig(load, kinds); err != nil {
			fmt.Fprintf(stderr, "%s: configuration invalid:\n%v\n", name, err)
			return 1
		}
		fmt.Fprintln(stdout, "configuration valid")
		return 0
	}

	logger.Info("starting "+name, "version", version.Info(), "build_context", version.BuildContext())
	self := prometheus.NewRegistry()
	self.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("redline"),
	)
	targets := web.NewTargets(logger)
	reloader := lifecycle.NewReloader(load, kinds, targets, self, logger)
	defer wireHooks(reloader, self, logger)()
	defer reloader.CloseAll()
	handler, err := web.NewHandler(web.Options{
		TelemetryPath: *telemetryPath, TimeoutOffset: *timeoutOffset, DefaultTimeout: *defaultTimeout,
		Self: self, Version: version.Info(),
	}, targets, reloader, logger)
	if err != nil {
		logger.Error("cannot build the HTTP handler", "err", err)
		return 1
	}
	// Subscribe before serving, so a SIGHUP never meets the default action
	// (exit).
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go reloadOnSignal(ctx, hup, reloader)
	if err := reloader.Reload(); err != nil {
		return 1 // logged by the reloader
	}

	// Without IdleTimeout (or ReadTimeout) a keep-alive connection that went
	// quiet after a request was never closed: idle clients could hold every
	// file the process may open and make /metrics unreachable.
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: min(10*time.Second, *readTimeout),
		ReadTimeout:       *readTimeout,
		IdleTimeout:       *idleTimeout,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- toolkit.ListenAndServe(server, webFlags, logger) }()
	select {
	case err := <-serveErr:
		logger.Error("HTTP server stopped", "err", err)
		return 1
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("HTTP shutdown", "err", err)
		}
		logger.Info("stopped")
		return 0
	}
}

// checkConfig loads the configuration (config.Load: the same validation a
// start and a reload run) and builds every target the way a reload does
// (lifecycle.Check), then closes them. It connects to nothing.
func checkConfig(load func() (*config.Config, error), kinds lifecycle.Builders) error {
	cfg, err := load()
	if err != nil {
		return err
	}
	return lifecycle.Check(cfg, kinds)
}

func reloadOnSignal(ctx context.Context, hup <-chan os.Signal, r *lifecycle.Reloader) {
	for {
		select {
		case <-hup:
			_ = r.Reload() // logged and counted by the reloader
		case <-ctx.Done():
			return
		}
	}
}
