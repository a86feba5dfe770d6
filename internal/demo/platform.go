package demo

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Platform is a stand-in for the trading platform: an event loop that
// stalls now and then, a no-op route for redline's prober, simulated API
// traffic through that loop, and the application metrics the platform spec
// reads (docs/platform-metrics.md). Latency is measured, not invented: each
// simulated request really waits for the loop.
type Platform struct {
	Loop     *EventLoop
	Registry *prometheus.Registry

	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	staleness    prometheus.Gauge
	riskBlocks   prometheus.Counter
	idemRequests prometheus.Counter
	idemConflict prometheus.Counter
	csp          prometheus.Counter
	gc           prometheus.Histogram
	lastQuote    time.Time
}

// NewPlatform builds the application and its metrics; Run starts it.
func NewPlatform() *Platform {
	p := &Platform{Registry: prometheus.NewRegistry()}
	p.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "API requests by status code.",
	}, []string{"method", "route", "status"})
	p.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "API request duration, including the wait for the event loop.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2.5},
	}, []string{"method", "route"})
	p.staleness = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "websocket_message_staleness_seconds", Help: "Age of the newest market-data message pushed to subscribers.",
	})
	p.riskBlocks = prometheus.NewCounter(prometheus.CounterOpts{Name: "risk_blocks_total", Help: "Orders blocked by the risk engine."})
	p.idemRequests = prometheus.NewCounter(prometheus.CounterOpts{Name: "idempotency_requests_total", Help: "Requests carrying an idempotency key."})
	p.idemConflict = prometheus.NewCounter(prometheus.CounterOpts{Name: "idempotency_conflicts_total", Help: "Idempotency keys reused with a different body."})
	p.csp = prometheus.NewCounter(prometheus.CounterOpts{Name: "csp_violations_total", Help: "Content-Security-Policy violation reports received."})
	reconnects := prometheus.NewCounter(prometheus.CounterOpts{Name: "websocket_reconnects_total", Help: "WebSocket reconnections."})
	drift := prometheus.NewCounter(prometheus.CounterOpts{Name: "decimal_precision_drift_total", Help: "Amounts whose decimal result differed from the reference computation."})
	// Named as prom-client names it, because the platform spec reads a
	// Node.js service; here it times the loop's simulated collections.
	p.gc = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "nodejs_gc_duration_seconds", Help: "Garbage-collection pauses of the event loop.",
		Buckets: []float64{0.001, 0.01, 0.1, 1, 2, 5},
	})
	p.Registry.MustRegister(p.requests, p.duration, p.staleness, p.riskBlocks, p.idemRequests, p.idemConflict,
		p.csp, reconnects, drift, p.gc,
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return p
}

// Run starts the loop, its stalls and the simulated traffic until ctx is
// done: about 20 API requests a second, a stall of stall every period.
func (p *Platform) Run(ctx context.Context, period, stall time.Duration) {
	p.Loop = NewEventLoop(ctx)
	p.Loop.StallEvery(ctx, period, stall)
	p.lastQuote = time.Now()
	go every(ctx, 50*time.Millisecond, func() { go p.apiRequest(ctx) })
	go every(ctx, 200*time.Millisecond, p.quote)
	go every(ctx, 500*time.Millisecond, p.collectGarbage)
	go every(ctx, time.Second, p.background)
}

// Handler serves /noop (the prober's route), /metrics, and the page at /
// with the security headers a browser enforces (the header probe's
// target).
func (p *Platform) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/noop", p.Loop.NoopHandler())
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		_, _ = w.Write([]byte("<!doctype html><title>trading platform</title>\n"))
	})
	mux.Handle("/metrics", promhttp.HandlerFor(p.Registry, promhttp.HandlerOpts{}))
	return mux
}

// apiRequest is one order request: a few milliseconds of work on the loop
// after the time it waited for it; one in 400 fails with a 503.
func (p *Platform) apiRequest(ctx context.Context) {
	start := time.Now()
	work := time.Duration(2+rand.IntN(8)) * time.Millisecond
	if err := p.Loop.Do(ctx, func() { busyWait(work) }); err != nil {
		return
	}
	status := http.StatusOK
	if rand.IntN(400) == 0 {
		status = http.StatusServiceUnavailable
	}
	p.duration.WithLabelValues("POST", "/orders").Observe(time.Since(start).Seconds())
	p.requests.WithLabelValues("POST", "/orders", strconv.Itoa(status)).Inc()
	if rand.IntN(4) == 0 {
		p.idemRequests.Inc()
		if rand.IntN(1000) == 0 {
			p.idemConflict.Inc()
		}
	}
}

// quote pushes a market-data message through the loop; staleness is the
// age of the last one that got through.
func (p *Platform) quote() {
	_ = p.Loop.Do(context.Background(), func() { p.lastQuote = time.Now() })
	p.staleness.Set(time.Since(p.lastQuote).Seconds())
}

// collectGarbage blocks the loop for a short pause, as a minor GC does.
func (p *Platform) collectGarbage() {
	pause := time.Duration(1+rand.IntN(4)) * time.Millisecond
	_ = p.Loop.Do(context.Background(), func() { busyWait(pause) })
	p.gc.Observe(pause.Seconds())
}

// background adds the rare events: a risk block now and then (about 0.2
// a minute) and CSP reports at a steady trickle.
func (p *Platform) background() {
	if rand.IntN(300) == 0 {
		p.riskBlocks.Inc()
	}
	if rand.IntN(60) == 0 {
		p.csp.Inc()
	}
}
