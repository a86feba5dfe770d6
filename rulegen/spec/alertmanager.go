package spec

import (
	"net/url"
)

func (v *validator) alertmanager(a *Alertmanager) {
	if a.WebhookURL == "" {
		v.errorf("alertmanager", "missing key %q", "webhook_url")
	} else if u, err := url.Parse(a.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf("alertmanager.webhook_url", "webhook_url must be an http or https URL")
	}
	if a.Receiver == "" {
		a.Receiver = v.s.Service + "-rollback"
	}
	if a.DefaultReceiver == "" {
		a.DefaultReceiver = "default"
	}
	if a.Receiver == a.DefaultReceiver {
		v.errorf("alertmanager.receiver", "receiver and default_receiver must differ")
	}
	def := func(d *Duration, s string) {
		if d.IsZero() {
			*d = MustDuration(s)
		}
	}
	def(&a.GroupWait, "10s")
	def(&a.GroupInterval, "1m")
	def(&a.RepeatInterval, "1h")
}
