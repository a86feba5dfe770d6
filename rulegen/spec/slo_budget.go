package spec

import (
	"math/big"
	"net/url"
	"strconv"
)

// DefaultFreezeBelow is the share of an SLO's error budget under which
// releases stop when the spec says nothing: the platform plan's "freeze
// if the budget is below 10%".
var DefaultFreezeBelow = Quantity{Kind: Percent, Text: "10%", rat: big.NewRat(1, 10)}

// Freezes reports whether the SLO has a release freeze (freeze_below > 0).
func (o *SLO) Freezes() bool { return o.FreezeBelow != nil && o.FreezeBelow.Rat().Sign() > 0 }

// FreezeAlert names the SLO's release-freeze alert (naming.go).
func (o *SLO) FreezeAlert() string { return FreezeAlertName(o.Name) }

// SLIMissingAlert names the SLO's no-data alert (naming.go).
func (o *SLO) SLIMissingAlert() string { return SLIMissingAlertName(o.Name) }

// sloBudget checks an SLO's error-budget keys (defaults.go fills them), and that every
// burn window is at least the signal's recording window: a window is read
// from the recorded rates, so a shorter one could not reset sooner.
func (v *validator) sloBudget(path string, o *SLO) {
	switch {
	case ratioProblem(*o.FreezeBelow) != "":
		v.errorf(path+".freeze_below", "%s", ratioProblem(*o.FreezeBelow))
	case o.FreezeBelow.Rat().Cmp(big.NewRat(1, 1)) == 0:
		v.errorf(path+".freeze_below", "freeze_below must be below 100%% (at 100%% releases would never run); 0 turns the freeze off")
	}
	v.atMost(path+".freeze_for", o.FreezeFor, "1d")
	v.atMost(path+".no_data_for", o.NoDataFor, "1d")
	sig := v.s.SignalByName(o.Signal)
	if sig == nil || sig.Window.Duration <= 0 {
		return
	}
	for i, w := range o.Windows {
		wp := path + ".windows[" + strconv.Itoa(i) + "]"
		for _, d := range []struct {
			key string
			d   Duration
		}{{"short", w.Short}, {"long", w.Long}} {
			if !d.d.IsZero() && d.d.Duration > 0 && d.d.Duration < sig.Window.Duration {
				v.errorf(wp+"."+d.key, "%s window (%s) is shorter than the window of signal %s (%s), whose recorded rates it reads", d.key, d.d.Text, sig.Name, sig.Window.String())
			}
		}
	}
}

// freezeRoute checks where freeze alerts go. A freeze webhook that is the
// rollback webhook (the default) was checked as webhook_url.
func (v *validator) freezeRoute(a *Alertmanager) {
	if a.FreezeWebhookURL != a.WebhookURL {
		if u, err := url.Parse(a.FreezeWebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.errorf("alertmanager.freeze_webhook_url", "freeze_webhook_url must be an http or https URL")
		}
	}
	if a.FreezeReceiver == a.Receiver || a.FreezeReceiver == a.DefaultReceiver {
		v.errorf("alertmanager.freeze_receiver", "freeze_receiver must differ from receiver and default_receiver")
	}
}
