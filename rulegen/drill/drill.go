// Package drill is `rulegen drill`, the rollback path's dry run: a
// synthetic alert per rollback alert of the spec (its labels, plus
// drill="true") posted to Alertmanager, then Alertmanager's own account
// of the receiver it grouped each one to, and, when asked, the webhook's
// account of having received it.
package drill

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render/amconfig"
)

// IDLabel tells one drill's alerts from another's (and from any real
// alert), so that the checks find exactly this run's.
const IDLabel = "drill_id"

// Options of a drill.
type Options struct {
	// Alertmanager is its URL; user:password in it is sent as basic
	// auth and never shown.
	Alertmanager string
	// WebhookCheck, when set, is a URL whose body lists what the rollback
	// webhook received (the drill's ID must appear in it).
	WebhookCheck string
	// ReceiverLog, when set, is a file the webhook receiver appends what
	// it receives to.
	ReceiverLog string
	// Timeout bounds the wait for the groups and the webhook (default 2m).
	Timeout time.Duration
	// EndsAfter is the alerts' endsAt from now (default 5m): they resolve
	// by themselves.
	EndsAfter time.Duration
	Client    *http.Client
}

// Alert is one drilled alert and what became of it.
type Alert struct {
	Labels map[string]string
	// Receivers are the receivers Alertmanager grouped it to.
	Receivers []string
	// Webhook is "received", "not received" or "not checked".
	Webhook string
	Problem string
}

// Result is the drill's outcome.
type Result struct {
	ID           string
	Alertmanager string // without credentials
	Receiver     string // the rollback receiver
	Alerts       []*Alert
	Time         time.Time
}

// Passed is true when every alert reached the rollback receiver, and
// only it, and the webhook (when checked) got it.
func (r *Result) Passed() bool {
	for _, a := range r.Alerts {
		if a.Problem != "" {
			return false
		}
	}
	return len(r.Alerts) > 0
}

// Text is rollback_dryrun.txt: PASSED or FAILED first, then one line per
// alert.
func (r *Result) Text() []byte {
	var b bytes.Buffer
	verdict := "FAILED"
	if r.Passed() {
		verdict = "PASSED"
	}
	fmt.Fprintf(&b, "%s rollback drill of %d alerts at %s against %s (%s=%q), rollback receiver %s\n",
		verdict, len(r.Alerts), r.Time.Format(time.RFC3339), r.Alertmanager, IDLabel, r.ID, r.Receiver)
	for _, a := range r.Alerts {
		status := "ok"
		if a.Problem != "" {
			status = "FAILED: " + a.Problem
		}
		fmt.Fprintf(&b, "alert %s: grouped to %s; webhook %s; %s\n", labelsText(a.Labels), listOr(a.Receivers, "no receiver"), a.Webhook, status)
	}
	return b.Bytes()
}

// Run drills every rollback alert of m. The error is for a drill that
// could not run (no rollback alert, Alertmanager refusing the alerts);
// a route that sends them elsewhere is a failed Result.
func Run(ctx context.Context, m *model.Model, o Options) (*Result, error) {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	if o.EndsAfter <= 0 {
		o.EndsAfter = 5 * time.Minute
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	base, shown, user, pass, err := parseURL(o.Alertmanager)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	r := &Result{ID: id, Alertmanager: shown, Receiver: m.Alertmanager.Receiver, Time: now}
	type postable struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
	}
	var posts []postable
	for _, a := range m.Alerts {
		if a.Labels["rollback"] != "true" {
			continue
		}
		labels := maps.Clone(a.Labels)
		labels["alertname"] = a.Name
		labels[amconfig.DrillLabel] = "true"
		labels[IDLabel] = id
		r.Alerts = append(r.Alerts, &Alert{Labels: labels, Webhook: "not checked"})
		posts = append(posts, postable{
			Labels:      labels,
			Annotations: map[string]string{"summary": "rollback drill (rulegen drill): not a rollback; deploy tools ignore drill=\"true\""},
			StartsAt:    now, EndsAt: now.Add(o.EndsAfter),
		})
	}
	if len(posts) == 0 {
		return nil, fmt.Errorf("the spec of %s has no rollback alert to drill (no trigger with action: rollback)", m.Service)
	}
	body, _ := json.Marshal(posts)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if _, err := do(o.Client, req, user, pass, shown); err != nil {
		return nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := waitGroups(ctx, o.Client, base, shown, user, pass, r); err != nil {
		return nil, err
	}
	if o.WebhookCheck != "" || o.ReceiverLog != "" {
		waitWebhook(ctx, o, r)
	}
	for _, a := range r.Alerts {
		switch {
		case len(a.Receivers) == 0:
			a.Problem = "Alertmanager grouped it to no receiver within " + o.Timeout.String()
		case !slices.Contains(a.Receivers, r.Receiver):
			a.Problem = "not on the rollback receiver " + r.Receiver
		case len(a.Receivers) > 1:
			a.Problem = "also routed to " + listOr(slices.DeleteFunc(slices.Clone(a.Receivers), func(s string) bool { return s == r.Receiver }), "") + ": a drill must not reach other receivers"
		case a.Webhook == "not received":
			a.Problem = "the rollback webhook did not receive it within " + o.Timeout.String()
		}
	}
	return r, nil
}

// waitGroups polls /api/v2/alerts/groups for this drill's alerts until
// every one is in a group or the context ends. A drill alert routed to
// two receivers shows in two groups; the poll goes on a little after the
// first sighting so that the second is seen too.
func waitGroups(ctx context.Context, c *http.Client, base, shown, user, pass string, r *Result) error {
	q := url.Values{"filter": {fmt.Sprintf("%s=%q", IDLabel, r.ID)}}
	settle := 0
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/alerts/groups?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		data, err := do(c, req, user, pass, shown)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		var groups []struct {
			Receiver struct {
				Name string `json:"name"`
			} `json:"receiver"`
			Alerts []struct {
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.Unmarshal(data, &groups); err != nil {
			return fmt.Errorf("%s/api/v2/alerts/groups: %v", shown, err)
		}
		seen := 0
		for _, a := range r.Alerts {
			a.Receivers = nil
			for _, g := range groups {
				for _, ga := range g.Alerts {
					if maps.Equal(ga.Labels, a.Labels) && !slices.Contains(a.Receivers, g.Receiver.Name) {
						a.Receivers = append(a.Receivers, g.Receiver.Name)
					}
				}
			}
			sort.Strings(a.Receivers)
			if len(a.Receivers) > 0 {
				seen++
			}
		}
		if seen == len(r.Alerts) {
			if settle++; settle > 2 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// waitWebhook waits until the webhook's record shows every alert:
// Alertmanager sends the group after group_wait.
func waitWebhook(ctx context.Context, o Options, r *Result) {
	read := func() string {
		if o.ReceiverLog != "" {
			data, _ := os.ReadFile(o.ReceiverLog)
			return string(data)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.WebhookCheck, nil)
		if err != nil {
			return ""
		}
		resp, err := o.Client.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		return string(data)
	}
	for {
		got := read()
		all := true
		for _, a := range r.Alerts {
			// The webhook's JSON holds the alert's labels; the ID and the
			// alert name together pick this drill's alert out.
			if strings.Contains(got, r.ID) && strings.Contains(got, `"alertname":"`+a.Labels["alertname"]+`"`) {
				a.Webhook = "received"
			} else {
				a.Webhook = "not received"
				all = false
			}
		}
		if all {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func do(c *http.Client, req *http.Request, user, pass, shown string) ([]byte, error) {
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		// url.Error quotes the request's URL, which has no credentials:
		// they were moved into the header.
		return nil, fmt.Errorf("alertmanager %s: %v", shown, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("alertmanager %s: %s %s: %s: %s", shown, req.Method, req.URL.Path, resp.Status, strings.TrimSpace(string(data)))
	}
	return data, nil
}

// parseURL splits the credentials off the URL.
func parseURL(raw string) (base, shown, user, pass string, err error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", "", "", errors.New("--alertmanager: expected an http:// or https:// URL")
	}
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
		u.User = nil
	}
	base = strings.TrimRight(u.String(), "/")
	return base, base, user, pass, nil
}

func newID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func labelsText(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func listOr(l []string, none string) string {
	if len(l) == 0 {
		return none
	}
	return strings.Join(l, ", ")
}
