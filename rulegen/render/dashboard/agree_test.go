package dashboard_test

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/dashboard"
	"github.com/redline-sre/redline/rulegen/spec"
)

// counter is a series that starts at start and grows by step a minute,
// plus accel·i² at minute i so that rates change over time (a step of 0
// is a constant gauge).
type counter struct {
	labels             string
	start, step, accel float64
}

// canarySeries feeds every signal of testdata/canary.spec.yml.
var canarySeries = []counter{
	{`http_requests_total{job="checkout", code="200", deployment="canary"}`, 0, 60, 0},
	{`http_requests_total{job="checkout", code="500", deployment="canary"}`, 0, 3, 0},
	{`http_requests_total{job="checkout", code="200", deployment="primary"}`, 0, 120, 0},
	{`http_requests_total{job="checkout", code="503", deployment="primary"}`, 0, 1, 0},
	{`http_request_duration_seconds_bucket{job="checkout", deployment="canary", le="0.1"}`, 0, 30, 0},
	{`http_request_duration_seconds_bucket{job="checkout", deployment="canary", le="0.5"}`, 0, 57, 0},
	{`http_request_duration_seconds_bucket{job="checkout", deployment="canary", le="+Inf"}`, 0, 63, 0},
	{`http_request_duration_seconds_count{job="checkout", deployment="canary"}`, 0, 63, 0},
	{`http_request_duration_seconds_bucket{job="checkout", deployment="primary", le="0.1"}`, 0, 100, 0},
	{`http_request_duration_seconds_bucket{job="checkout", deployment="primary", le="0.5"}`, 0, 119, 0},
	{`http_request_duration_seconds_bucket{job="checkout", deployment="primary", le="+Inf"}`, 0, 121, 0},
	{`http_request_duration_seconds_count{job="checkout", deployment="primary"}`, 0, 121, 0},
	{`pgbouncer_pool_saturation_ratio{database="app", user="web"}`, 0.5, 0.005, 0},
	{`pgbouncer_pool_saturation_ratio{database="app", user="batch"}`, 0.95, 0, 0},
	{`gc_duration_seconds_sum{job="checkout", kind="minor"}`, 0, 0.9, 0},
	{`gc_duration_seconds_count{job="checkout", kind="minor"}`, 0, 60, 0},
	{`gc_duration_seconds_sum{job="checkout", kind="major"}`, 0, 0.5, 0},
	{`gc_duration_seconds_count{job="checkout", kind="major"}`, 0, 5, 0},
	{`process_resident_memory_bytes{job="checkout"}`, 1e8, 2e5, 0},
	{`cache_hit_ratio{job="checkout", shard="a"}`, 0.9, 0, 0},
	{`cache_hit_ratio{job="checkout", shard="b"}`, 0.7, 0, 0},
	{`payment_declines_total{job="checkout"}`, 0, 4, 0},
	{`csp_violations_total{job="checkout"}`, 0, 2, 0.05},
}

// memStorage serves fixed series, 91 one-minute samples each, to the
// PromQL engine: enough for the 1h baseline window and its offset.
func memStorage(t *testing.T, cs []counter) storage.Queryable {
	var all []storage.Series
	for _, c := range cs {
		lset, err := spec.Parser.ParseMetric(c.labels)
		if err != nil {
			t.Fatal(err)
		}
		var samples []chunks.Sample
		for i := 0; i <= 90; i++ {
			samples = append(samples, fSample{t: int64(i) * 60000, f: c.start + float64(i)*c.step + float64(i*i)*c.accel})
		}
		all = append(all, storage.NewListSeries(lset, samples))
	}
	return &storage.MockQueryable{MockQuerier: &storage.MockQuerier{
		SelectMockFunction: func(_ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
			var sel []storage.Series
		next:
			for _, s := range all {
				for _, m := range ms {
					if !m.Matches(s.Labels().Get(m.Name)) {
						continue next
					}
				}
				sel = append(sel, s)
			}
			sort.Slice(sel, func(i, j int) bool { return labels.Compare(sel[i].Labels(), sel[j].Labels()) < 0 })
			return &sliceSet{series: sel, i: -1}
		},
	}}
}

type sliceSet struct {
	series []storage.Series
	i      int
}

func (s *sliceSet) Next() bool                        { s.i++; return s.i < len(s.series) }
func (s *sliceSet) At() storage.Series                { return s.series[s.i] }
func (s *sliceSet) Err() error                        { return nil }
func (s *sliceSet) Warnings() annotations.Annotations { return nil }

type fSample struct {
	t int64
	f float64
}

func (s fSample) T() int64                      { return s.t }
func (s fSample) ST() int64                     { return 0 }
func (s fSample) F() float64                    { return s.f }
func (s fSample) H() *histogram.Histogram       { return nil }
func (s fSample) FH() *histogram.FloatHistogram { return nil }
func (s fSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s fSample) Copy() chunks.Sample           { return s }

// TestQueriesAgreeWithRules evaluates, on a real PromQL engine, each
// signal panel's queries with $__rate_interval set to the signal's window
// and the rule expressions the alerts compare (recording rules inlined):
// the dashboard must show the value the triggers see.
func TestQueriesAgreeWithRules(t *testing.T) {
	m := load(t, "testdata/canary.spec.yml")
	d, err := dashboard.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	st := memStorage(t, canarySeries)
	eng := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: 10 * time.Second})
	defer eng.Close()
	at := time.Unix(0, 0).Add(90 * time.Minute)

	checked := 0
	for i, sp := range m.Dashboard.Panels {
		if sp.Signal == "" {
			continue
		}
		sig := m.SignalByName(sp.Signal)
		panel := d.Panels[i]
		want := []string{sig.Value}
		if sig.Baseline != "" {
			want = append(want, fmt.Sprintf("%s * %s", sig.Baseline, "1.1"))
		}
		if canary := canaryValue(m, sig); canary != "" {
			want[0] = canary
		}
		if len(panel.Targets) != len(want) {
			t.Fatalf("%s: %d targets, want %d", panel.Title, len(panel.Targets), len(want))
		}
		for j, tg := range panel.Targets {
			q := strings.NewReplacer("$__rate_interval", sig.Window.String(), "$track", ".+").Replace(tg.Expr)
			got := eval(t, eng, st, q, at)
			exp := eval(t, eng, st, inline(m, want[j]), at)
			if len(got) == 0 {
				t.Errorf("%s: %s returns nothing on the test data", panel.Title, q)
			}
			if g, e := show(got), show(exp); g != e {
				t.Errorf("%s target %d:\n dashboard %s = %s\n rules     %s = %s", panel.Title, j, q, g, want[j], e)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Errorf("only %d queries compared", checked)
	}
}

// canaryValue is the per-track recorded value of a signal the canary
// alert compares, or "".
func canaryValue(m *model.Model, sig *model.Signal) string {
	for _, a := range m.Alerts {
		if a.Canary != nil && a.Canary.Signal == sig {
			return a.Canary.Value
		}
	}
	return ""
}

// inline replaces recorded series names by their expressions until none
// is left, so one query computes what the recording rules chain does.
func inline(m *model.Model, expr string) string {
	for changed := true; changed; {
		changed = false
		for _, r := range m.Recordings {
			re := regexp.MustCompile(`(^|[^\w:])` + regexp.QuoteMeta(r.Record) + `([^\w:{]|$)`)
			if re.MatchString(expr) {
				expr = re.ReplaceAllString(expr, "${1}("+strings.ReplaceAll(r.Expr, "$", "$$")+")${2}")
				changed = true
			}
		}
	}
	return expr
}

func eval(t *testing.T, eng *promql.Engine, st storage.Queryable, q string, at time.Time) promql.Vector {
	t.Helper()
	qry, err := eng.NewInstantQuery(context.Background(), st, nil, q, at)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer qry.Close()
	res := qry.Exec(context.Background())
	if res.Err != nil {
		t.Fatalf("%s: %v", q, res.Err)
	}
	v, err := res.Vector()
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// show prints a vector sorted by labels, values rounded to 9 significant
// digits (the two sides may sum in a different order).
func show(v promql.Vector) string {
	var out []string
	for _, s := range v {
		val := s.F
		if val != 0 && !math.IsInf(val, 0) && !math.IsNaN(val) {
			p := math.Pow(10, 8-math.Floor(math.Log10(math.Abs(val))))
			val = math.Round(val*p) / p
		}
		out = append(out, fmt.Sprintf("%s=%g", s.Metric.String(), val))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
