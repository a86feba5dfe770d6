package spec

import "math/big"

// latencyKind: a quantile of a classic histogram.
type latencyKind struct{}

func (latencyKind) keys() []string {
	return []string{"histogram", "quantile", "bucket", "guard", "threshold", "op", "min_rate"}
}

func (latencyKind) setDefaults(sig *Signal) {
	if sig.Unit == "" {
		sig.Unit = "seconds"
	}
}

func (latencyKind) validate(v *validator, path string, sig *Signal) {
	v.upperOp(path, sig)
	v.selector(path+".histogram", &sig.Histogram, true)
	v.histogramName(path+".histogram", sig.Histogram)
	if sig.Quantile == nil {
		v.missing(path, "quantile")
	} else if r := sig.Quantile.Rat(); r.Sign() <= 0 || r.Cmp(big.NewRat(1, 1)) >= 0 {
		v.errorf(path+".quantile", "quantile must be between 0 and 1 (exclusive), got %s", sig.Quantile.Text)
	}
	v.threshold(path, sig, func(q Quantity) string {
		if q.Kind == Percent {
			return "a latency threshold is a duration such as 200ms"
		}
		if q.Rat().Sign() <= 0 {
			return "a latency threshold must be positive"
		}
		return bareLatencyProblem(q)
	})
	v.guard(path, sig)
}

func (latencyKind) thresholdProblem(sig *Signal, thr Quantity) string {
	if thr.Kind == Percent || thr.Rat().Sign() <= 0 {
		return "a latency threshold is a positive duration such as 200ms"
	}
	if sig.Bucket && sig.Threshold != nil && thr.Rat().Cmp(sig.Threshold.Rat()) != 0 {
		return "signal \"" + sig.Name + "\" reads its threshold bucket (bucket: true); a different threshold needs another signal"
	}
	return ""
}

func (latencyKind) comparesTracks(*Signal) bool { return true }

// budgeted: the budget is read from the threshold's bucket.
func (latencyKind) budgeted(sig *Signal) bool { return sig.Bucket }
