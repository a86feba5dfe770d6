package spec

import "math/big"

// setDefaults fills every key a spec leaves out, in one pass before any
// check: what the validators see is what the model reads.
func setDefaults(s *Spec) {
	for i := range s.Signals {
		signalDefaults(&s.Signals[i])
	}
	for i := range s.Triggers {
		triggerDefaults(&s.Triggers[i])
	}
	for i := range s.SLOs {
		sloDefaults(s, &s.SLOs[i])
	}
	if s.Canary != nil {
		canaryDefaults(s.Canary)
	}
	alertmanagerDefaults(s, &s.Alertmanager)
	if s.Dashboard != nil {
		dashboardDefaults(s, s.Dashboard)
	}
	for i := range s.Preflight {
		preflightDefaults(&s.Preflight[i])
	}
	if s.Outputs != nil {
		outputsDefaults(s, s.Outputs)
	}
}

func triggerDefaults(t *Trigger) {
	if t.Forecast != nil {
		forecastDefaults(t.Forecast)
	}
	if t.For.IsZero() {
		t.For = MustDuration("5m")
	}
	if t.Severity == "" {
		t.Severity = "critical"
		if t.Action == ActionTicket {
			t.Severity = "warning"
		}
	}
}

func sloDefaults(s *Spec, o *SLO) {
	if o.Alert == "" && o.Name != "" {
		o.Alert = SLOAlertName(o.Name)
	}
	if o.Period.IsZero() {
		o.Period = MustDuration("28d")
	}
	if sig := s.SignalByName(o.Signal); o.MinRate == nil && sig != nil {
		o.MinRate = sig.MinRate
	}
	if o.Windows == nil {
		o.Windows = DefaultBurnWindows()
	}
	if o.FreezeBelow == nil {
		q := DefaultFreezeBelow
		o.FreezeBelow = &q
	}
	if o.FreezeFor.IsZero() {
		o.FreezeFor = MustDuration("15m")
	}
	if o.NoDataFor.IsZero() {
		o.NoDataFor = MustDuration("15m")
	}
	for i := range o.Windows {
		w := &o.Windows[i]
		if w.Severity == "" {
			w.Severity = "critical"
		}
		if w.Action == "" {
			w.Action = ActionPage
			if w.Severity != "critical" {
				w.Action = ActionTicket
			}
		}
		if w.For.IsZero() && !w.Short.IsZero() {
			// A third of the short window (at least 1m): long enough to
			// ride out one bad scrape, short against the window itself.
			f := w.Short.Duration / 3
			if f < MustDuration("1m").Duration {
				f = MustDuration("1m").Duration
			}
			w.For = Duration{Duration: f, Text: f.String()}
		}
	}
}

func canaryDefaults(c *Canary) {
	if c.Factor == nil {
		c.Factor = &Quantity{Kind: Number, Text: "2", rat: big.NewRat(2, 1)}
	}
	if c.For.IsZero() {
		c.For = MustDuration("5m")
	}
	if len(c.Steps) > 0 && c.StepDuration.IsZero() {
		c.StepDuration = MustDuration("15m")
	}
}

func alertmanagerDefaults(s *Spec, a *Alertmanager) {
	if a.Receiver == "" {
		a.Receiver = s.Service + "-rollback"
	}
	if a.DefaultReceiver == "" {
		a.DefaultReceiver = "default"
	}
	// Freeze alerts go to the rollback webhook unless the spec names
	// another; they are told apart there by freeze="true".
	if a.FreezeWebhookURL == "" {
		a.FreezeWebhookURL = a.WebhookURL
	}
	if a.FreezeReceiver == "" {
		a.FreezeReceiver = s.Service + "-freeze"
	}
	for _, d := range []struct {
		d   *Duration
		def string
	}{{&a.GroupWait, "10s"}, {&a.GroupInterval, "1m"}, {&a.RepeatInterval, "1h"}} {
		if d.d.IsZero() {
			*d.d = MustDuration(d.def)
		}
	}
}

func dashboardDefaults(s *Spec, d *Dashboard) {
	if d.UID == "" {
		d.UID = s.Service
	}
	for i := range d.Panels {
		p := &d.Panels[i]
		if sig := s.SignalByName(p.Signal); sig != nil && p.Expr == "" && p.Unit == "" {
			p.Unit = sig.Unit
		}
		if p.Type == "" {
			p.Type = PanelTimeseries
		}
		if p.Expr != "" && p.Unit == "" {
			p.Unit = "none"
		}
	}
}

// preflightDefaults fills the keys of the check's own kind only: an http
// check given op or no_data is an error, not a default.
func preflightDefaults(c *PreflightCheck) {
	switch {
	case c.Expr != "" && c.HTTP == nil && c.Signal == "":
		if c.Op == "" {
			c.Op = "<="
		}
		if c.NoData == "" {
			c.NoData = NoDataUnknown
		}
	case c.HTTP != nil && c.Expr == "" && c.Signal == "":
		if c.HTTP.Status == 0 {
			c.HTTP.Status = 200
		}
	}
}

func outputsDefaults(s *Spec, o *Outputs) {
	if o.Dir == "" {
		o.Dir = "kubernetes"
	}
	if r := o.PrometheusRule; r != nil && r.Name == "" {
		r.Name = s.Service
	}
	if a := o.ArgoRollouts; a != nil {
		if a.Name == "" {
			a.Name = s.Service
		}
		if a.Rollout == "" {
			a.Rollout = s.Service
		}
		if a.Interval.IsZero() {
			a.Interval = MustDuration("1m")
		}
	}
	if f := o.Flagger; f != nil {
		if f.Canary == "" {
			f.Canary = s.Service
		}
		if f.Interval.IsZero() {
			f.Interval = MustDuration("1m")
		}
		if f.Threshold == nil {
			f.Threshold = &Quantity{Kind: Number, Text: "5", rat: big.NewRat(5, 1)}
		}
		if f.Label == "" {
			f.Label = "app"
		}
	}
	if mi := o.Mimir; mi != nil && mi.Namespace == "" {
		mi.Namespace = s.Service
	}
}
