package gate

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	verdict     *prometheus.GaugeVec
	evaluations *prometheus.CounterVec
	duration    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		verdict: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "redline_gate_verdict",
			Help: "Outcome of each check at the last evaluation of a stage: 1 GO, 0 NO_GO, -1 NO_DATA. check=\"\" is the stage's verdict.",
		}, []string{"check", "stage"}),
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redline_gate_evaluations_total",
			Help: "Evaluations of a verdict against Prometheus (cached answers are not counted), by verdict.",
		}, []string{"verdict"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "redline_gate_evaluation_duration_seconds",
			Help:    "Time one evaluation took: every check's queries and the evidence.",
			Buckets: []float64{.01, .025, .05, .1, .2, .5, 1, 2.5, 5, 10, 30},
		}),
	}
	for _, o := range []Outcome{GO, NoGo, NoData} {
		m.evaluations.WithLabelValues(string(o))
	}
	for _, c := range []prometheus.Collector{m.verdict, m.evaluations, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(v *Verdict, took time.Duration) {
	stage := strconv.Itoa(v.Stage)
	// The checks of a stage can change (a check appears, Prometheus goes
	// away): drop the stage's old series first.
	m.verdict.DeletePartialMatch(prometheus.Labels{"stage": stage})
	m.verdict.WithLabelValues("", stage).Set(v.Verdict.value())
	for _, c := range v.Checks {
		m.verdict.WithLabelValues(c.Name, stage).Set(c.Outcome.value())
	}
	m.evaluations.WithLabelValues(string(v.Verdict)).Inc()
	m.duration.Observe(took.Seconds())
}
