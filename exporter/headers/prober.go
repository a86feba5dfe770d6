package headers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/redline-sre/redline/exporter/probe"
)

// maxBodyDrain is how much of a body is read so the connection can be
// reused; the headers are all the probe needs.
const maxBodyDrain = 64 << 10

// requirement is one required header, compiled.
type requirement struct {
	header string         // canonical name
	value  *regexp.Regexp // nil: any value
}

// prober sends one probe's requests, one at a time.
type prober struct {
	cfg     ProbeConfig
	logger  *slog.Logger
	client  *http.Client
	request *http.Request
	require []requirement
	metrics *metrics

	cancel context.CancelFunc
	done   chan struct{}

	failing bool // logs a state change once, not every failure (probe goroutine only)
}

// startProber starts the probe's goroutine; cfg must have passed Validate.
func startProber(cfg ProbeConfig, m *metrics, logger *slog.Logger) *prober {
	u, _ := probe.ParseURL(cfg.URL) // validated by the caller
	req := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{"User-Agent": {"redline_exporter"}}, Host: u.Host}
	p := &prober{
		cfg:     cfg,
		logger:  logger.With("probe", cfg.Name),
		request: req,
		metrics: m,
		done:    make(chan struct{}),
	}
	for _, name := range sortedKeys(cfg.Require) {
		re, _ := compile(cfg.Require[name]) // validated by the caller
		p.require = append(p.require, requirement{header: http.CanonicalHeaderKey(name), value: re})
	}
	transport := &http.Transport{
		Proxy: nil, // loopback and in-cluster targets; a proxy could add or strip headers
		// The transport goes on dialing after the request gave up; against
		// a target that drops SYNs each interval would leave a dial running
		// for the kernel's ~127 s. A dial ends at the timeout, and one
		// connection per host (dialing included) is all a probe that sends
		// one request at a time needs.
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     1,
		MaxIdleConns:        1,
		IdleConnTimeout:     2 * cfg.Interval,
		TLSHandshakeTimeout: cfg.Timeout,
	}
	p.client = &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if !cfg.FollowRedirects {
				return http.ErrUseLastResponse
			}
			if len(via) > MaxRedirects {
				return fmt.Errorf("more than %d redirects", MaxRedirects)
			}
			// http.Client sets Referer to the previous URL, query and all:
			// the probe URL's token would reach the redirect's target.
			next.Header.Del("Referer")
			if !cfg.FollowOtherHosts && !strings.EqualFold(next.URL.Hostname(), via[0].URL.Hostname()) {
				// Neither host is named: the error is logged and hosts may
				// be internal names.
				return errors.New("redirect to another host not followed (follow_other_hosts: true allows it)")
			}
			return nil
		},
	}
	p.metrics.success.WithLabelValues(cfg.Name).Set(0)
	p.metrics.duration.WithLabelValues(cfg.Name).Set(0)

	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.run(ctx)
	p.logger.Info("header probe started", "url", probe.LoggableURL(u), "interval", cfg.Interval, "timeout", cfg.Timeout,
		"follow_redirects", cfg.FollowRedirects, "follow_other_hosts", cfg.FollowOtherHosts, "require", sortedKeys(cfg.Require))
	return p
}

// Stop cancels the request in flight and returns once the goroutine ended.
func (p *prober) Stop() {
	p.cancel()
	<-p.done
	p.client.CloseIdleConnections()
	p.logger.Info("header probe stopped")
}

// run probes within a second of the start, so a new or restarted exporter
// has results at its first scrapes (at a random point of it, so probes
// configured together do not fire together), then once per interval. A
// probe that takes long delays the next tick rather than overlapping it.
func (p *prober) run(ctx context.Context) {
	defer close(p.done)
	timer := time.NewTimer(rand.N(min(p.cfg.Interval, time.Second)))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		p.probe(ctx)
		timer.Reset(p.cfg.Interval)
	}
}

// probe sends one request and records its outcome.
func (p *prober) probe(ctx context.Context) {
	start := time.Now()
	resp, err := p.client.Do(p.request.Clone(ctx))
	took := time.Since(start)
	if ctx.Err() != nil {
		if resp != nil {
			_ = resp.Body.Close()
		}
		return // stopping: not a failure of the target
	}
	p.metrics.duration.WithLabelValues(p.cfg.Name).Set(min(took, p.cfg.Timeout).Seconds())
	if err != nil {
		p.fail(cleanError(err))
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBodyDrain))
	_ = resp.Body.Close()
	if resp.StatusCode >= 400 {
		// An error page says nothing about the release's headers; the
		// error-rate triggers cover the status.
		p.fail(fmt.Errorf("status %d", resp.StatusCode))
		return
	}
	p.metrics.success.WithLabelValues(p.cfg.Name).Set(1)
	var missing []string
	for _, r := range p.require {
		ok := matches(resp.Header.Values(r.header), r.value)
		v := 0.0
		if ok {
			v = 1
		} else {
			missing = append(missing, r.header)
		}
		p.metrics.match.WithLabelValues(p.cfg.Name, r.header).Set(v)
	}
	if p.failing {
		p.failing = false
		p.logger.Info("header probe answered again")
	}
	if len(missing) > 0 {
		// Names only: a header's value may carry a nonce or a token.
		p.logger.Debug("header probe: required headers missing or not matching", "headers", missing, "status", resp.StatusCode)
	}
}

// matches reports whether one of the header's values matches (any value
// when re is nil). A header sent twice passes when either line does.
func matches(values []string, re *regexp.Regexp) bool {
	for _, v := range values {
		if re == nil || re.MatchString(v) {
			return true
		}
	}
	return false
}

// fail records a request without a usable answer. The header series are
// removed rather than set to 0: a network failure is not a missing header,
// and success 0 says what happened.
func (p *prober) fail(err error) {
	p.metrics.success.WithLabelValues(p.cfg.Name).Set(0)
	p.metrics.match.DeletePartialMatch(map[string]string{"probe": p.cfg.Name})
	if !p.failing {
		p.failing = true
		p.logger.Warn("header probe failing", "err", err)
		return
	}
	p.logger.Debug("header probe failed", "err", err)
}

// cleanError drops the *url.Error wrapper, whose text quotes the URL with
// its query (and, for some errors, its user info).
func cleanError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("timeout")
		}
		return ue.Err
	}
	return err
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
