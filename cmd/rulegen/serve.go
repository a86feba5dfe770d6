package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	toolkit "github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/evidence"
	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/spec"
)

type serveFlags struct {
	cmd                        *kingpin.CmdClause
	spec, prometheus, evidence *string
	grafana                    *string
	cacheTTL, refresh          *time.Duration
	timeout, queryTimeout      *time.Duration
	concurrency                *int
	web                        *toolkit.FlagConfig
	// client holds the Prometheus client flags, declared as preflight's
	// (same names, same help) so that both build the client one way.
	client *preflightFlags
	sign   *signFlags
}

func serveCommand(app *kingpin.Application, pf *preflightFlags) *serveFlags {
	c := app.Command("serve", "The release gate: serve each canary stage's GO/NO_GO/NO_DATA verdict from the spec, read from Prometheus, to Argo Rollouts (web metric), Flagger (webhooks) and people (a war-room page), with per-stage evidence.")
	f := &serveFlags{
		cmd:        c,
		spec:       c.Flag("spec", "Spec file (default: the "+spec.DefaultName+" spec, the platform's).").PlaceHolder("FILE").String(),
		prometheus: c.Flag("prometheus", pf.cmd.GetFlag("prometheus").Model().Help).Required().PlaceHolder("URL").String(),
		evidence:   c.Flag("evidence", "Write each stage's evidence into DIR/<release>/stage-<N>/ at every evaluation.").PlaceHolder("DIR").String(),
		grafana:    c.Flag("grafana.url", "Base URL of Grafana for the war-room page's dashboard links.").PlaceHolder("URL").String(),
		cacheTTL:   c.Flag("cache-ttl", "Serve a verdict again for this long before asking Prometheus anew.").Default("5s").Duration(),
		refresh:    c.Flag("refresh", "The war-room page's reload interval.").Default("15s").Duration(),
		web:        kingpinflag.AddFlags(c, ":9460"),
	}
	// The client flags are preflight's own: copied from its command's
	// model, so that a name, default or help changed there changes here.
	cl := &preflightFlags{}
	flag := func(name string) *kingpin.FlagClause {
		m := pf.cmd.GetFlag(name).Model()
		fc := c.Flag(name, m.Help).PlaceHolder(m.PlaceHolder)
		if len(m.Default) > 0 {
			fc = fc.Default(m.Default...)
		}
		return fc
	}
	cl.httpConfig, cl.bearerFile = flag("http.config.file").String(), flag("bearer-token-file").String()
	cl.username, cl.passFile = flag("basic-auth.username").String(), flag("basic-auth.password-file").String()
	cl.caFile, cl.certFile, cl.keyFile = flag("tls.ca-file").String(), flag("tls.cert-file").String(), flag("tls.key-file").String()
	cl.insecure = flag("tls.insecure-skip-verify").Bool()
	f.timeout, f.queryTimeout = flag("timeout").Duration(), flag("query-timeout").Duration()
	f.concurrency = flag("concurrency").Int()
	f.client = cl
	f.sign = addSignFlags(c)
	return f
}

// runServe serves until SIGINT or SIGTERM, then shuts down gracefully:
// answers in flight finish (within 10s).
func runServe(ctx context.Context, f *serveFlags, stdout, stderr io.Writer) int {
	m, sum, code := loadModel(*f.spec, stderr)
	if m == nil {
		return code
	}
	cfg, err := f.client.httpClientConfig()
	if err != nil {
		fmt.Fprintf(stderr, "rulegen serve: %v\n", err)
		return exitInvalid
	}
	if *f.cacheTTL <= 0 || *f.refresh <= 0 || *f.timeout <= 0 || *f.concurrency <= 0 {
		fmt.Fprintln(stderr, "rulegen serve: --cache-ttl, --refresh, --timeout and --concurrency must be positive")
		return exitInvalid
	}
	sl, err := f.sign.load(*f.spec, *f.evidence)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen serve: %v\n", err)
		return exitInvalid
	}
	var seal func(context.Context, string, *gate.Verdict) error
	if sl != nil {
		seal = func(ctx context.Context, dir string, v *gate.Verdict) error {
			return sl.seal(ctx, dir, m, func(subjects []attest.Subject, config []attest.Resource) *attest.Verdict {
				return evidence.GateVerdict(v, subjects, config)
			})
		}
	}
	logger := promslog.New(&promslog.Config{Writer: stderr})
	reg := prometheus.NewRegistry()
	fillVersion()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), versioncollector.NewCollector("redline_gate"))
	g, err := gate.New(gate.Config{
		Model: m, Server: preflight.Server{URL: *f.prometheus, Config: cfg}, SpecSHA256: sum,
		EvidenceDir: *f.evidence, CacheTTL: *f.cacheTTL, Timeout: *f.timeout, QueryTimeout: *f.queryTimeout,
		Concurrency: *f.concurrency, GrafanaURL: *f.grafana, Refresh: *f.refresh, Registry: reg, Logger: logger,
		Seal: seal,
	})
	if err != nil {
		fmt.Fprintf(stderr, "rulegen serve: %v\n", err)
		return exitInvalid
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	server := &http.Server{Handler: g.Handler(reg), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	logger.Info("rulegen serve", "service", m.Service, "spec_sha256", sum)
	go func() { serveErr <- toolkit.ListenAndServe(server, f.web, logger) }()
	select {
	case err := <-serveErr:
		fmt.Fprintf(stderr, "rulegen serve: %v\n", err)
		return exitError
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := server.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "rulegen serve: shutdown: %v\n", err)
			return exitError
		}
		fmt.Fprintln(stdout, "rulegen serve: stopped")
		return exitOK
	}
}
