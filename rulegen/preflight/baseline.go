package preflight

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	pmodel "github.com/prometheus/common/model"
	"golang.org/x/sync/errgroup"
	"google.golang.org/protobuf/proto"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// baseline writes every signal's current value, per series, and its
// threshold in the text exposition format, stamped with the evaluation
// time: the state the release started from, which promtool and any
// Prometheus client can read back. A signal whose value could not be read
// is named in a comment line and in notRead. signals.txt shows the same
// values as a table, in each signal's unit, beside its threshold.
func baseline(ctx context.Context, e *env, m *model.Model, concurrency int) (prom, text []byte, notRead []string) {
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
	errs := make([]error, len(m.Signals))
	g := &errgroup.Group{}
	g.SetLimit(concurrency)
	for i, sig := range m.Signals {
		g.Go(func() error {
			values[i], errs[i] = e.vector(ctx, sig.Value)
			return nil
		})
	}
	_ = g.Wait()
	var b, t bytes.Buffer
	fmt.Fprintf(&t, "# Every signal's value per series at %s, in its unit\n", e.at.Format(time.RFC3339))
	tw := tabwriter.NewWriter(&t, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "signal\tseries\tvalue\thealthy when\tquery")
	for i, sig := range m.Signals {
		if errs[i] != nil {
			why := fmt.Sprintf("signal %s: %v", sig.Name, errs[i])
			notRead = append(notRead, why)
			fmt.Fprintf(&b, "# not read: %s\n", oneLine(why))
		}
		thrText := "-"
		if sig.Threshold != nil && sig.Kind != spec.KindBaseline {
			thrText = sig.Signal.Op + " " + sig.ThresholdText(*sig.Threshold)
		}
		switch {
		case errs[i] != nil:
			fmt.Fprintf(tw, "%s\t-\tnot read\t%s\t%s\n", sig.Name, thrText, oneLine(sig.Value))
		case len(values[i]) == 0:
			fmt.Fprintf(tw, "%s\t-\tno data\t%s\t%s\n", sig.Name, thrText, oneLine(sig.Value))
		}
		for _, s := range values[i] {
			v := valueIn(sig, float64(s.Value))
			if sig.Kind == spec.KindBaseline {
				v = formatValue(float64(s.Value))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sig.Name, seriesText(s.Metric), v, thrText, oneLine(sig.Value))
		}
	}
	tw.Flush()
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
	for _, mf := range []*dto.MetricFamily{value, threshold} {
		if len(mf.Metric) == 0 {
			continue // the format has no empty family
		}
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			notRead = append(notRead, "exposition format: "+err.Error())
		}
	}
	return b.Bytes(), t.Bytes(), notRead
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
