package eventloop

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Failure reasons, the values of the reason label.
const (
	ReasonTimeout     = "timeout"
	ReasonConnect     = "connect"
	ReasonStatus      = "status"
	ReasonInflightCap = "inflight_cap"
)

// reasons lists every reason so each probe's counters start at 0 and
// rate() works from the first scrape.
var reasons = []string{ReasonTimeout, ReasonConnect, ReasonStatus, ReasonInflightCap}

// durationBuckets holds 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5 and 1 as
// exact bounds so "P95 ≤ 50 ms" is a bucket check, not an interpolation,
// plus sub-5ms bounds for the loopback floor and 2.5–10 s for long timeouts.
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// timerLagBuckets resolves the microsecond-scale lateness of a healthy Go
// timer and the tens of milliseconds of a starved process.
var timerLagBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}

// Native-histogram settings shared by both histograms: buckets at most 10%
// wide, at most 100 of them, shrunk resolution reset after an hour.
const (
	nativeBucketFactor     = 1.1
	nativeMaxBuckets       = 100
	nativeMinResetInterval = time.Hour
)

// metrics are the prober's series in the exporter's global registry. They
// carry no target label: the probe label names what was probed.
type metrics struct {
	duration *prometheus.HistogramVec
	requests *prometheus.CounterVec
	failures *prometheus.CounterVec
	timerLag prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "redline_eventloop_probe_duration_seconds",
			Help: "Response time of a no-op HTTP request sent open-loop every interval, from the request " +
				"being written to the socket to the first response byte: network (loopback) floor plus the time " +
				"the request queued in the target, i.e. its event-loop lag. A request that times out is observed " +
				"at the timeout; requests answered with a non-2xx status are observed too.",
			Buckets:                         durationBuckets,
			NativeHistogramBucketFactor:     nativeBucketFactor,
			NativeHistogramMaxBucketNumber:  nativeMaxBuckets,
			NativeHistogramMinResetDuration: nativeMinResetInterval,
		}, []string{"probe"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redline_eventloop_probe_requests_total",
			Help: "Event-loop probe requests sent. Each ends as an observation (answered, or timed out and observed " +
				"at the timeout) or as a connect failure, which is not observed; ticks skipped at the in-flight cap " +
				"send nothing and are not counted. The denominator of the probe failure ratio: it counts the " +
				"prober's own steady traffic, so the ratio exists whatever the target's load.",
		}, []string{"probe"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redline_eventloop_probe_failures_total",
			Help: "Event-loop probe requests that failed, by reason: timeout (no response within the timeout, " +
				"also observed at the timeout), connect (connection refused, reset or another transport error, " +
				"not observed), status (non-2xx response, observed), inflight_cap (no request sent because " +
				"max in-flight requests were outstanding, not observed).",
		}, []string{"probe", "reason"}),
		timerLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "redline_timer_lag_seconds",
			Help: "How late the exporter's own probe timers fired after their scheduled time, over all probes. " +
				"High values mean the exporter is starved of CPU and its probe durations are inflated too.",
			Buckets:                         timerLagBuckets,
			NativeHistogramBucketFactor:     nativeBucketFactor,
			NativeHistogramMaxBucketNumber:  nativeMaxBuckets,
			NativeHistogramMinResetDuration: nativeMinResetInterval,
		}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) {
	reg.MustRegister(m.duration, m.requests, m.failures, m.timerLag)
}

// initProbe creates the probe's series at zero.
func (m *metrics) initProbe(probe string) {
	m.duration.WithLabelValues(probe)
	m.requests.WithLabelValues(probe)
	for _, r := range reasons {
		m.failures.WithLabelValues(probe, r)
	}
}

// deleteProbe removes a probe's series after it is removed from the config.
func (m *metrics) deleteProbe(probe string) {
	m.duration.DeletePartialMatch(prometheus.Labels{"probe": probe})
	m.requests.DeletePartialMatch(prometheus.Labels{"probe": probe})
	m.failures.DeletePartialMatch(prometheus.Labels{"probe": probe})
}
