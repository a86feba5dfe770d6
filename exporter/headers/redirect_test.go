package headers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// referers records the Referer of every request a handler saw.
type referers struct {
	mu   sync.Mutex
	seen []string
}

func (r *referers) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen = append(r.seen, req.Header.Get("Referer"))
		r.mu.Unlock()
		next.ServeHTTP(w, req)
	})
}

func (r *referers) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// A followed redirect used to carry the probe URL, token in the query, in
// Referer, to whatever host the answer named. No Referer is sent, and a
// redirect to another host is followed only with follow_other_hosts.
func TestRedirectsSendNoRefererAndStayOnTheHost(t *testing.T) {
	const token = "T0kenS3cret"
	var other referers
	otherHost := httptest.NewServer(other.handler(page(secure)))
	t.Cleanup(otherHost.Close)
	// The same server under another host name: localhost instead of
	// 127.0.0.1 (loopback only).
	otherURL := strings.Replace(otherHost.URL, "127.0.0.1", "localhost", 1) + "/app"

	var same referers
	mux := http.NewServeMux()
	mux.Handle("/app", same.handler(page(secure)))
	mux.Handle("/same", http.RedirectHandler("/app", http.StatusFound))
	mux.Handle("/away", http.RedirectHandler(otherURL, http.StatusFound))
	origin := httptest.NewServer(mux)
	t.Cleanup(origin.Close)

	_, reg := startManager(t, nil,
		ProbeConfig{Name: "same", URL: origin.URL + "/same?token=" + token, Interval: time.Second, FollowRedirects: true},
		ProbeConfig{Name: "away", URL: origin.URL + "/away?token=" + token, Interval: time.Second, FollowRedirects: true},
		ProbeConfig{Name: "allowed", URL: origin.URL + "/away?token=" + token, Interval: time.Second, FollowRedirects: true, FollowOtherHosts: true},
	)
	for _, p := range []string{"same", "away", "allowed"} {
		waitProbed(t, reg, p)
	}
	success := gauges(t, reg, "redline_http_header_probe_success")
	if success["probe=same"] != 1 || success["probe=allowed"] != 1 || success["probe=away"] != 0 {
		t.Errorf("success: %v, want same and allowed 1, away 0 (redirect to another host not followed)", success)
	}
	for name, r := range map[string]*referers{"same host": &same, "other host": &other} {
		seen := r.get()
		if len(seen) == 0 {
			t.Errorf("%s: no request", name)
		}
		for _, ref := range seen {
			if ref != "" {
				t.Errorf("%s: Referer %q sent", name, ref)
			}
		}
	}
}

func TestFollowOtherHostsNeedsFollowRedirects(t *testing.T) {
	c := ProbeConfig{Name: "p", URL: "http://h/", FollowOtherHosts: true}.WithDefaults()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "follow_other_hosts needs follow_redirects: true") {
		t.Errorf("Validate: %v", err)
	}
}
