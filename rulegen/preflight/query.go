package preflight

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	pmodel "github.com/prometheus/common/model"
)

// env is what a check runs with: the Prometheus client at one evaluation
// time, the per-query deadline, the outcomes of the signal checks (read by
// the checks that run after them) and the evidence of its own queries.
type env struct {
	c       *client
	at      time.Time
	timeout time.Duration
	// runTimeout is --timeout, named when the run's deadline cut a query.
	runTimeout time.Duration
	signals    map[string]Outcome

	mu      sync.Mutex
	queries []Query
}

func (e *env) record(q Query) {
	e.mu.Lock()
	e.queries = append(e.queries, q)
	e.mu.Unlock()
}

// vector evaluates expr at the run's time, within the per-query deadline,
// and returns its samples (a scalar as one sample without labels).
func (e *env) vector(ctx context.Context, expr string) (pmodel.Vector, error) {
	qctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	val, warnings, infos, err := e.c.api.Query(qctx, expr, e.at, v1.WithTimeout(e.timeout))
	q := Query{Kind: "promql", Request: expr, Time: e.at, Warnings: append(warnings, infos...)}
	if err != nil {
		err = fmt.Errorf("query %s: %w", expr, e.why(ctx, qctx, err))
		q.Error = err.Error()
		e.record(q)
		return nil, err
	}
	q.Result, _ = json.Marshal(val)
	e.record(q)
	switch v := val.(type) {
	case pmodel.Vector:
		sort.Slice(v, func(i, j int) bool { return v[i].Metric.String() < v[j].Metric.String() })
		return v, nil
	case *pmodel.Scalar:
		return pmodel.Vector{{Metric: pmodel.Metric{}, Value: v.Value, Timestamp: v.Timestamp}}, nil
	}
	return nil, fmt.Errorf("query %s: got a %s, want an instant vector", expr, val.Type())
}

// PartialWarning is the first warning of the queries that says the data
// may be incomplete, or "". PromQL infos ("PromQL info: …", e.g. a metric
// name that does not look like a counter) say nothing about completeness.
func PartialWarning(qs []Query) string {
	for _, q := range qs {
		for _, w := range q.Warnings {
			if !strings.HasPrefix(w, "PromQL info:") {
				return w
			}
		}
	}
	return ""
}

// why says which deadline cut a request: the run's (--timeout) or the
// query's own (--query-timeout), so that an UNKNOWN from a slow Prometheus
// reads as that and not as missing data. Other errors pass unchanged,
// without the URL.
func (e *env) why(ctx, qctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		if e.runTimeout > 0 {
			return fmt.Errorf("not answered within --timeout %s (the run's deadline): %w", e.runTimeout, context.DeadlineExceeded)
		}
		return fmt.Errorf("not answered before the deadline: %w", context.DeadlineExceeded)
	case qctx.Err() != nil && errors.Is(qctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out after --query-timeout %s: %w", e.timeout, context.DeadlineExceeded)
	}
	return scrub(err)
}

// formatValue prints a sample value without float artefacts.
func formatValue(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// seriesText names a series by its labels, without the metric name.
func seriesText(m pmodel.Metric) string {
	var names []string
	for k := range m {
		if k != pmodel.MetricNameLabel {
			names = append(names, string(k))
		}
	}
	if len(names) == 0 {
		return "{}"
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s=%q", k, m[pmodel.LabelName(k)])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// listed joins at most five items and says how many more there are.
func listed(items []string) string {
	const most = 5
	if len(items) <= most {
		return strings.Join(items, "; ")
	}
	return strings.Join(items[:most], "; ") + fmt.Sprintf("; and %d more", len(items)-most)
}

// valuesText is the value column for a vector: the one value, or the
// range of values over its series.
func valuesText(v pmodel.Vector) string {
	switch len(v) {
	case 0:
		return "no data"
	case 1:
		return formatValue(float64(v[0].Value))
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range v {
		f := float64(s.Value)
		lo, hi = math.Min(lo, f), math.Max(hi, f)
	}
	if lo == hi {
		return fmt.Sprintf("%s (%d series)", formatValue(lo), len(v))
	}
	return fmt.Sprintf("%s…%s (%d series)", formatValue(lo), formatValue(hi), len(v))
}

func sortStrings(s []string) { sort.Strings(s) }
