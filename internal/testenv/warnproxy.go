package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// WarningProxy stands in for a Thanos or Mimir query frontend in front of
// a real Prometheus: while on, it adds Field ("warnings" or "infos") with
// Messages to every answer of the query API (instant and range), as Thanos does to a
// partial response (status success, a store's series missing). A real
// Prometheus cannot be made to return one.
type WarningProxy struct {
	URL string
	on  atomic.Bool
}

// Set turns the added warnings on or off.
func (p *WarningProxy) Set(on bool) { p.on.Store(on) }

// NewWarningProxy starts a proxy to upstream, on, and stops it when the
// test ends.
func NewWarningProxy(t testing.TB, upstream, field string, messages ...string) *WarningProxy {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &WarningProxy{}
	p.on.Store(true)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if !p.on.Load() || !(strings.HasSuffix(resp.Request.URL.Path, "/api/v1/query") || strings.HasSuffix(resp.Request.URL.Path, "/api/v1/query_range")) || resp.StatusCode != http.StatusOK {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var answer map[string]any
		if err := json.Unmarshal(body, &answer); err != nil {
			return err
		}
		answer[field] = messages
		if body, err = json.Marshal(answer); err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Plain text from Prometheus, so that the answer can be edited.
		r.Header.Del("Accept-Encoding")
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}
