package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/redline-sre/redline/rulegen/spec"
)

// httpCheck requests a page and checks its status and headers — the
// smoke test of the security headers a browser enforces (CSP, COEP).
// Redirects are not followed: the page must carry the headers itself. A
// request that gets no answer is UNKNOWN.
func httpCheck(p *spec.PreflightCheck) *Check {
	h := p.HTTP
	var want []string
	for _, name := range sortedHeaderNames(h.Headers) {
		if h.Headers[name] == "" {
			want = append(want, name)
		} else {
			want = append(want, name+"~"+h.Headers[name])
		}
	}
	thr := fmt.Sprintf("status %d", h.Status)
	if len(want) > 0 {
		thr += ", " + strings.Join(want, ", ")
	}
	c := &Check{Name: "preflight:" + p.Name, Required: p.IsRequired(), Threshold: thr}
	shown := redactURL(h.URL)
	c.run = func(ctx context.Context, e *env) Outcome {
		ctx, cancel := context.WithTimeout(ctx, e.timeout)
		defer cancel()
		q := Query{Kind: "http", Request: "GET " + shown, Time: time.Now().UTC()}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
		if err != nil {
			q.Error = "bad request"
			e.record(q)
			return Outcome{Status: Unknown, Detail: "GET " + shown + ": bad request"}
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			q.Error = scrub(err).Error()
			e.record(q)
			return Outcome{Status: Unknown, Detail: "GET " + shown + ": " + q.Error}
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		// Evidence keeps the status and the required headers only: other
		// headers (Set-Cookie) can carry secrets.
		seen := map[string][]string{}
		for name := range h.Headers {
			if vals := resp.Header.Values(name); len(vals) > 0 {
				seen[name] = vals
			}
		}
		q.Result, _ = json.Marshal(map[string]any{"status": resp.StatusCode, "headers": seen})
		e.record(q)
		var why []string
		if resp.StatusCode != int(h.Status) {
			why = append(why, fmt.Sprintf("status %d, want %d", resp.StatusCode, h.Status))
		}
		for _, name := range sortedHeaderNames(h.Headers) {
			vals := resp.Header.Values(name)
			if len(vals) == 0 {
				why = append(why, name+" missing")
				continue
			}
			re := regexp.MustCompile(spec.AnchoredHeaderPattern(h.Headers[name]))
			if !re.MatchString(strings.Join(vals, ", ")) {
				why = append(why, fmt.Sprintf("%s is %q, does not match %q", name, strings.Join(vals, ", "), h.Headers[name]))
			}
		}
		val := fmt.Sprintf("status %d", resp.StatusCode)
		if len(why) > 0 {
			return Outcome{Status: NoGo, Value: val, Detail: "GET " + shown + ": " + strings.Join(why, "; ")}
		}
		return Outcome{Status: GO, Value: val}
	}
	return c
}

func sortedHeaderNames(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

// redactURL drops credentials and the query (tokens travel there too).
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	u.Fragment = ""
	return u.String()
}
