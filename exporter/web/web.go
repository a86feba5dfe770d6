// Package web is the exporter's HTTP side: /metrics (every target),
// /probe?target=<name> (one configured target), the landing page, health,
// readiness and reload endpoints, and the atomically swapped target set
// behind them.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/redline-sre/redline/exporter/deadline"
)

// Options configures the handler.
type Options struct {
	// TelemetryPath serves every target plus the exporter's own metrics.
	TelemetryPath string
	// TimeoutOffset is subtracted from Prometheus's
	// X-Prometheus-Scrape-Timeout-Seconds so the answer arrives before
	// Prometheus gives up.
	TimeoutOffset time.Duration
	// DefaultTimeout is the collection deadline when the header is absent.
	DefaultTimeout time.Duration
	// Self holds the exporter's own metrics (Go, process, build info,
	// config reload).
	Self prometheus.Gatherer
	// Version is shown on the landing page.
	Version string
}

// Reloader is what /-/ready and /-/reload ask (lifecycle.Reloader).
type Reloader interface {
	Ready() bool
	Reload() error
}

// Handler serves the exporter's endpoints.
type Handler struct {
	opts     Options
	targets  *Targets
	reloader Reloader
	logger   *slog.Logger
	mux      *http.ServeMux
}

// NewHandler wires the endpoints.
func NewHandler(opts Options, targets *Targets, reloader Reloader, logger *slog.Logger) (*Handler, error) {
	if opts.TelemetryPath == "" {
		opts.TelemetryPath = "/metrics"
	}
	if err := checkTelemetryPath(opts.TelemetryPath); err != nil {
		return nil, err
	}
	h := &Handler{opts: opts, targets: targets, reloader: reloader, logger: logger, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET "+opts.TelemetryPath, h.metrics)
	h.mux.HandleFunc("GET /probe", h.probe)
	h.mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	h.mux.HandleFunc("GET /-/ready", h.ready)
	h.mux.HandleFunc("POST /-/reload", h.reload)
	if opts.TelemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "redline_exporter",
			Description: "pgBouncer, PostgreSQL and event-loop signals for deploy safety",
			Version:     opts.Version,
			Links: []web.LandingLinks{
				{Address: opts.TelemetryPath, Text: "Metrics", Description: "every configured target, each series labelled target=\"<name>\""},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
			// /probe needs a configured target's name; a bare link to it
			// would answer 400.
			Form: web.LandingForm{Action: "/probe", Inputs: []web.LandingFormInput{
				{Label: "Probe one target", Type: "text", Name: "target", Placeholder: "a configured target's name"},
			}},
			// No pprof handlers are served; the page must not link them.
			Profiling: "false",
		})
		if err != nil {
			return nil, err
		}
		h.mux.Handle("GET /{$}", landing)
	}
	return h, nil
}

// checkTelemetryPath rejects paths the mux cannot take: it would panic on a
// clash with another endpoint or read braces as wildcards.
func checkTelemetryPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("--web.telemetry-path %q must start with /", p)
	case strings.ContainsAny(p, "{} \t"):
		return fmt.Errorf("--web.telemetry-path %q must not contain braces or spaces", p)
	case p == "/probe" || strings.HasPrefix(p, "/-/"):
		return fmt.Errorf("--web.telemetry-path %q clashes with a built-in endpoint", p)
	}
	return nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) ready(w http.ResponseWriter, _ *http.Request) {
	if h.reloader != nil && !h.reloader.Ready() {
		http.Error(w, "no configuration loaded yet", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "Ready")
}

func (h *Handler) reload(w http.ResponseWriter, _ *http.Request) {
	if h.reloader == nil {
		http.Error(w, "reloading is not available", http.StatusNotFound)
		return
	}
	if err := h.reloader.Reload(); err != nil {
		http.Error(w, "reload failed, previous configuration kept: "+err.Error(), http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "Reloaded")
}

// metrics serves every target and the exporter's own metrics.
func (h *Handler) metrics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout(r))
	defer cancel()
	names := h.targets.Names()
	reg := prometheus.NewRegistry()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, name := range names {
		wg.Go(func() {
			ms, _ := h.targets.Collect(ctx, name)
			mu.Lock()
			defer mu.Unlock()
			h.register(reg, name, ms)
		})
	}
	wg.Wait()
	h.serve(w, r, prometheus.Gatherers{h.opts.Self, reg})
}

// probe serves one configured target. The name only selects from the
// configuration: nothing in the URL decides where the exporter connects.
func (h *Handler) probe(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("target")
	if name == "" {
		http.Error(w, "missing parameter: target (one of the configured target names)", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.timeout(r))
	defer cancel()
	ms, ok := h.targets.Collect(ctx, name)
	if !ok {
		http.Error(w, fmt.Sprintf("unknown target %q: not in the configuration", echo(name)), http.StatusBadRequest)
		return
	}
	reg := prometheus.NewRegistry()
	h.register(reg, name, ms)
	h.serve(w, r, reg)
}

// maxEcho bounds how much of a request's target name an error repeats: a
// name longer than any configured one need not come back whole, and a
// megabyte parameter must not make a megabyte answer.
const maxEcho = 64

// echo returns name cut to maxEcho bytes (on a rune boundary), marked when
// cut.
func echo(name string) string {
	if len(name) <= maxEcho {
		return name
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "…"
}

func (h *Handler) register(reg *prometheus.Registry, name string, ms []prometheus.Metric) {
	if err := reg.Register(labelled(name, ms)); err != nil {
		h.logger.Error("cannot register target metrics", "target", name, "err", err)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, g prometheus.Gatherer) {
	promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(h.logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}).ServeHTTP(w, r)
}

// timeout is the scrape's deadline (deadline.ScrapeTimeout).
func (h *Handler) timeout(r *http.Request) time.Duration {
	return deadline.ScrapeTimeout(r.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"), h.opts.TimeoutOffset, h.opts.DefaultTimeout)
}
