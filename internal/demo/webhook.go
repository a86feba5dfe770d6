package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Alert is one alert as Alertmanager's webhook delivers it.
type Alert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

// Notification is Alertmanager's webhook payload (version 4).
type Notification struct {
	Receiver string  `json:"receiver"`
	Status   string  `json:"status"`
	Alerts   []Alert `json:"alerts"`
}

// Delivery is one alert received, with the time it arrived.
type Delivery struct {
	Alert
	Received time.Time
}

// Webhook receives Alertmanager notifications, records every alert and
// optionally prints a line per alert — the stand-in for a deployment tool's
// rollback hook.
type Webhook struct {
	out io.Writer
	mu  sync.Mutex
	got []Delivery
	new chan struct{}
}

// NewWebhook returns a receiver that prints to out (nil: silent).
func NewWebhook(out io.Writer) *Webhook {
	return &Webhook{out: out, new: make(chan struct{}, 1)}
}

func (w *Webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(rw, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var n Notification
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&n); err != nil {
		http.Error(rw, "bad payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	w.mu.Lock()
	for _, a := range n.Alerts {
		w.got = append(w.got, Delivery{Alert: a, Received: now})
		if w.out != nil {
			fmt.Fprintf(w.out, "%s ROLLBACK WEBHOOK %-8s %s\n", now.Format("15:04:05"), strings.ToUpper(a.Status), describe(a))
		}
	}
	w.mu.Unlock()
	select {
	case w.new <- struct{}{}:
	default:
	}
}

// describe prints an alert's name, then its other labels in order.
func describe(a Alert) string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		if k != "alertname" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(a.Labels["alertname"])
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, a.Labels[k])
	}
	if s := a.Annotations["summary"]; s != "" {
		if a.Status == "resolved" {
			// Alertmanager sends a resolved alert with the annotations of
			// its last firing evaluation: the value is no longer current.
			fmt.Fprintf(&b, " — last firing: %s", s)
		} else {
			fmt.Fprintf(&b, " — %s", s)
		}
	}
	return b.String()
}

// Deliveries returns every alert received so far.
func (w *Webhook) Deliveries() []Delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Delivery(nil), w.got...)
}

// WaitFor waits until an alert matching match has arrived, or timeout.
func (w *Webhook) WaitFor(timeout time.Duration, match func(Delivery) bool) (Delivery, bool) {
	deadline := time.After(timeout)
	for {
		for _, d := range w.Deliveries() {
			if match(d) {
				return d, true
			}
		}
		select {
		case <-w.new:
		case <-deadline:
			return Delivery{}, false
		}
	}
}
