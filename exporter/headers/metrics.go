package headers

import "github.com/prometheus/client_golang/prometheus"

// metrics are the probers' series in the exporter's global registry. They
// carry no target label: the probe label names what was probed.
type metrics struct {
	match    *prometheus.GaugeVec
	success  *prometheus.GaugeVec
	duration *prometheus.GaugeVec
}

func newMetrics() *metrics {
	return &metrics{
		match: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "redline_http_header_match",
			Help: "1 when the probe's last answer carried the required header with a matching value, 0 when the header " +
				"was missing or its value did not match. Absent while the probe gets no answer (see " +
				"redline_http_header_probe_success), so a network failure never reads as a missing header.",
		}, []string{"probe", "header"}),
		success: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "redline_http_header_probe_success",
			Help: "1 when the probe's last request got an answer with a status below 400, 0 when it timed out, " +
				"could not connect or was answered with 4xx/5xx.",
		}, []string{"probe"}),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "redline_http_header_probe_duration_seconds",
			Help: "How long the probe's last request took, redirects included, up to its timeout.",
		}, []string{"probe"}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) {
	reg.MustRegister(m.match, m.success, m.duration)
}

// deleteProbe removes a probe's series after it is removed from the config.
func (m *metrics) deleteProbe(probe string) {
	for _, v := range []*prometheus.GaugeVec{m.match, m.success, m.duration} {
		v.DeletePartialMatch(prometheus.Labels{"probe": probe})
	}
}
