package preflight

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/redline-sre/redline/rulegen/model"
)

// baseline writes every signal's current value, per series, and its
// threshold in the text exposition format, stamped with the evaluation
// time: the state the release started from, which promtool and any
// Prometheus client can read back.
func baseline(ctx context.Context, e *env, m *model.Model, concurrency int) ([]byte, error) {
	ms := e.at.UnixMilli()
	value := &dto.MetricFamily{
		Name: proto.String("redline_preflight_signal_value"),
		Help: proto.String("A signal's value at the preflight, in its unit, per series of the signal."),
		Type: dto.MetricType_GAUGE.Enum(),
	}
	threshold := &dto.MetricFamily{
		Name: proto.String("redline_preflight_signal_threshold"),
		Help: proto.String("A signal's healthy threshold, in its unit (baseline signals: the tolerance above the baseline)."),
		Type: dto.MetricType_GAUGE.Enum(),
	}
	// One query per signal, at most concurrency at once.
	values := make([]pmodel.Vector, len(m.Signals))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i, sig := range m.Signals {
		g.Go(func() error {
			v, err := e.vector(gctx, sig.Value)
			values[i] = v
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, sig := range m.Signals {
		for _, s := range values[i] {
			value.Metric = append(value.Metric, gauge(sig.Name, s.Metric, float64(s.Value), ms))
		}
		thr := sig.Threshold
		if thr == nil {
			thr = sig.Tolerance
		}
		if thr != nil {
			f, _ := thr.Rat().Float64()
			threshold.Metric = append(threshold.Metric, gauge(sig.Name, nil, f, ms))
		}
	}
	var b bytes.Buffer
	for _, mf := range []*dto.MetricFamily{value, threshold} {
		if len(mf.Metric) == 0 {
			continue // the format has no empty family
		}
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			return nil, fmt.Errorf("exposition format: %w", err)
		}
	}
	return b.Bytes(), nil
}

func gauge(signal string, series pmodel.Metric, v float64, ms int64) *dto.Metric {
	pairs := []*dto.LabelPair{{Name: proto.String("signal"), Value: proto.String(signal)}}
	var names []string
	for k := range series {
		if k != pmodel.MetricNameLabel && k != "signal" {
			names = append(names, string(k))
		}
	}
	sort.Strings(names)
	for _, k := range names {
		pairs = append(pairs, &dto.LabelPair{Name: proto.String(k), Value: proto.String(string(series[pmodel.LabelName(k)]))})
	}
	return &dto.Metric{Label: pairs, Gauge: &dto.Gauge{Value: proto.Float64(v)}, TimestampMs: proto.Int64(ms)}
}
