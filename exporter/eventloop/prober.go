package eventloop

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/probe"
)

// maxBodyDrain is how much of a response body is read so the connection can
// be reused; a no-op route answers with a few bytes.
const maxBodyDrain = 64 << 10

// prober sends one probe's requests. A scheduler goroutine ticks once per
// interval at a random point of the interval and hands the tick to a pool of
// MaxInFlight workers; when MaxInFlight requests are already outstanding the
// tick is an inflight_cap failure instead. No goroutine is started per
// request.
type prober struct {
	cfg       ProbeConfig
	logger    *slog.Logger
	transport *http.Transport
	template  *http.Request

	duration prometheus.Observer
	requests prometheus.Counter
	failures map[string]prometheus.Counter
	timerLag prometheus.Observer

	// jobs holds ticks handed to the workers; outstanding counts ticks
	// handed over and not yet finished. Only the scheduler increments it,
	// so outstanding ≤ MaxInFlight and a send on jobs never blocks.
	jobs        chan struct{}
	outstanding atomic.Int64
	cancel      context.CancelFunc
	wg          sync.WaitGroup

	running, peakRunning atomic.Int64 // requests on the wire; read by tests
	failing              atomic.Bool  // logs a state change once, not every failure
}

// startProber starts the probe's goroutines; cfg must have passed Validate.
func startProber(cfg ProbeConfig, m *metrics, logger *slog.Logger) *prober {
	u, _ := probe.ParseURL(cfg.URL) // validated by the caller
	template := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"User-Agent": {"redline_exporter"}},
		Host:       u.Host,
	}
	// http.Client would turn user:password@ in the URL into basic auth;
	// the bare transport does not, so do it here.
	if u.User != nil {
		password, _ := u.User.Password()
		template.SetBasicAuth(u.User.Username(), password)
	}
	for name, value := range cfg.Headers {
		if http.CanonicalHeaderKey(name) == "Host" {
			template.Host = value
			continue
		}
		template.Header.Set(name, value)
	}

	m.initProbe(cfg.Name)
	p := &prober{
		cfg:    cfg,
		logger: logger.With("probe", cfg.Name),
		// One keep-alive transport per probe, with an idle connection for
		// every worker, so a healthy target is probed over warm
		// connections and dialing is never part of the steady state.
		transport: &http.Transport{
			Proxy: nil, // a proxy would add its own queueing to the measurement
			// The transport goes on dialing after the request that asked
			// for the connection gave up (for a later request to use). Against
			// a target that drops SYNs each dial would live until the kernel
			// gives up (~127 s), one socket and goroutine per tick: the dial
			// ends at the probe's timeout, and MaxConnsPerHost counts dials
			// with the connections, so at most MaxInFlight sockets exist.
			DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxConnsPerHost:     cfg.MaxInFlight,
			MaxIdleConns:        cfg.MaxInFlight,
			MaxIdleConnsPerHost: cfg.MaxInFlight,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			TLSHandshakeTimeout: cfg.Timeout,
		},
		template: template,
		duration: m.duration.WithLabelValues(cfg.Name),
		requests: m.requests.WithLabelValues(cfg.Name),
		failures: make(map[string]prometheus.Counter, len(reasons)),
		timerLag: m.timerLag,
		jobs:     make(chan struct{}, cfg.MaxInFlight),
	}
	for _, r := range reasons {
		p.failures[r] = m.failures.WithLabelValues(cfg.Name, r)
	}

	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Add(cfg.MaxInFlight + 1)
	for range cfg.MaxInFlight {
		go p.worker(ctx)
	}
	go p.schedule(ctx)
	p.logger.Info("event-loop probe started", "url", probe.LoggableURL(u), "interval", cfg.Interval,
		"timeout", cfg.Timeout, "max_in_flight", cfg.MaxInFlight)
	return p
}

// Stop cancels outstanding requests and returns once every goroutine of the
// probe has ended and its idle connections are closed.
func (p *prober) Stop() {
	p.cancel()
	p.wg.Wait()
	p.transport.CloseIdleConnections()
	p.logger.Info("event-loop probe stopped")
}

// schedule ticks once per interval. Each tick falls at a uniformly random
// point of its interval (stratified sampling): requests then arrive at
// random phases of whatever periodic stalls the target has, so the share of
// requests that wait is the share of time the target is blocked. A fixed
// period would lock onto a stall of the same period and see always the same
// wait. The lateness of each tick goes to redline_timer_lag_seconds.
func (p *prober) schedule(ctx context.Context) {
	defer p.wg.Done()
	interval := p.cfg.Interval
	slot := time.Now()
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		at := slot.Add(rand.N(interval))
		timer.Reset(time.Until(at))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		p.timerLag.Observe(max(0, now.Sub(at)).Seconds())
		if p.outstanding.Load() < int64(p.cfg.MaxInFlight) {
			p.outstanding.Add(1)
			p.jobs <- struct{}{}
		} else {
			p.failures[ReasonInflightCap].Inc()
		}
		slot = slot.Add(interval)
		// After a stall longer than an interval, skip the missed slots
		// instead of sending them in a burst.
		if now.Sub(slot) >= interval {
			slot = now
		}
	}
}

func (p *prober) worker(ctx context.Context) {
	defer p.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.jobs:
			p.probe(ctx)
			p.outstanding.Add(-1)
		}
	}
}

// stamps are the trace times of one request, written by the transport's
// goroutines.
type stamps struct {
	mu           sync.Mutex
	wroteRequest time.Time
	firstByte    time.Time
}

func (s *stamps) set(t *time.Time) {
	now := time.Now()
	s.mu.Lock()
	*t = now
	s.mu.Unlock()
}

// probe sends one request and records its outcome. The duration runs from
// the request being written to the socket, so the exporter's own goroutine
// handoff, connection reuse or dialing are not counted as target lag, to
// the first response byte.
func (p *prober) probe(ctx context.Context) {
	n := p.running.Add(1)
	defer p.running.Add(-1)
	for {
		peak := p.peakRunning.Load()
		if n <= peak || p.peakRunning.CompareAndSwap(peak, n) {
			break
		}
	}

	reqCtx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	var st stamps
	trace := &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { st.set(&st.wroteRequest) },
		GotFirstResponseByte: func() { st.set(&st.firstByte) },
	}
	req := p.template.Clone(httptrace.WithClientTrace(reqCtx, trace))

	// Counted before the outcome is known: a connection that is refused
	// or reset records no duration, and without this denominator a probe
	// that only fails would look like no traffic rather than all failures.
	p.requests.Inc()
	sent := time.Now()
	resp, err := p.transport.RoundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return // the probe is stopping: not a failure of the target
		}
		if errors.Is(err, context.DeadlineExceeded) || reqCtx.Err() != nil {
			// The worst samples must not vanish: a request that got no
			// answer waited at least the timeout.
			p.duration.Observe(p.cfg.Timeout.Seconds())
			p.fail(ReasonTimeout, err)
			return
		}
		p.fail(ReasonConnect, err)
		return
	}
	end := time.Now()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyDrain))
	_ = resp.Body.Close()

	st.mu.Lock()
	if !st.firstByte.IsZero() {
		end = st.firstByte
	}
	if !st.wroteRequest.IsZero() && st.wroteRequest.Before(end) {
		sent = st.wroteRequest
	}
	st.mu.Unlock()
	// A non-2xx answer still went through the target's queue; dropping it
	// would hide lag exactly when the target starts shedding load. The
	// status failure makes a wrong route visible.
	p.duration.Observe(end.Sub(sent).Seconds())
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		p.fail(ReasonStatus, errors.New(resp.Status))
		return
	}
	if p.failing.Swap(false) {
		p.logger.Info("event-loop probe recovered")
	}
}

func (p *prober) fail(reason string, err error) {
	p.failures[reason].Inc()
	if !p.failing.Swap(true) {
		p.logger.Warn("event-loop probe failing", "reason", reason, "err", err)
		return
	}
	p.logger.Debug("event-loop probe failed", "reason", reason, "err", err)
}
