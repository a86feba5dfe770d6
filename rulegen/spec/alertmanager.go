package spec

import (
	"net/url"
)

func (v *validator) alertmanager(a *Alertmanager) {
	if a.WebhookURL == "" {
		v.missing("alertmanager", "webhook_url")
	} else if u, err := url.Parse(a.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf("alertmanager.webhook_url", "webhook_url must be an http or https URL")
	}
	if a.Receiver == a.DefaultReceiver {
		v.errorf("alertmanager.receiver", "receiver and default_receiver must differ")
	}
}
