package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
)

// Server says how to reach Prometheus: its URL and the HTTP client
// configuration of the ecosystem's tools (basic auth, bearer token, TLS,
// secrets read from files at each request).
type Server struct {
	URL    string
	Config config.HTTPClientConfig
}

// UnreachableError means Prometheus did not answer, or refused the
// credentials: nothing can be checked (exit 3).
type UnreachableError struct {
	URL    string
	Reason string
	Err    error
}

func (e *UnreachableError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("prometheus %s: %s: %v", e.URL, e.Reason, e.Err)
	}
	return fmt.Sprintf("prometheus %s: %s", e.URL, e.Reason)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// client is a connected Prometheus API.
type client struct {
	api  v1.API
	http *http.Client
	base *url.URL
	// shown is the URL without credentials, for output and evidence.
	shown string
}

// connect builds the client. Credentials in the URL (user:password@) move
// into the basic-auth configuration, so that the URL that is printed,
// logged or written as evidence never holds them.
func connect(s Server) (*client, error) {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("--prometheus: expected an http:// or https:// URL with a host")
	}
	cfg := s.Config
	if u.User != nil {
		if cfg.BasicAuth != nil || cfg.Authorization != nil || cfg.BearerTokenFile != "" {
			return nil, errors.New("--prometheus: credentials in the URL and in the HTTP configuration; give them once")
		}
		pw, _ := u.User.Password()
		cfg.BasicAuth = &config.BasicAuth{Username: u.User.Username(), Password: config.Secret(pw)}
		u.User = nil
	}
	u.RawQuery, u.Fragment = "", ""
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus HTTP configuration: %w", err)
	}
	hc, err := config.NewClientFromConfig(cfg, "rulegen_preflight")
	if err != nil {
		return nil, fmt.Errorf("prometheus HTTP configuration: %w", err)
	}
	ac, err := api.NewClient(api.Config{Address: u.String(), Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus client: %w", err)
	}
	return &client{api: v1.NewAPI(ac), http: hc, base: u, shown: u.String()}, nil
}

// probe asks Prometheus for its build information: a connection error,
// a refused credential or an answer that is not Prometheus's API stops
// the run before any check would read it as missing data.
func (c *client) probe(ctx context.Context) error {
	u := c.base.JoinPath("api", "v1", "status", "buildinfo")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return &UnreachableError{URL: c.shown, Reason: "bad request", Err: err}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &UnreachableError{URL: c.shown, Reason: "unreachable", Err: scrub(err)}
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return &UnreachableError{URL: c.shown, Reason: fmt.Sprintf("credentials refused (%s)", resp.Status)}
	case resp.StatusCode/100 != 2:
		return &UnreachableError{URL: c.shown, Reason: fmt.Sprintf("%s from %s (is this Prometheus's URL?)", resp.Status, u.Path)}
	}
	return nil
}

// scrub drops the URL from a client error: the URL the API client built is
// the server's, but a proxy or redirect URL could carry credentials.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToUpper(ue.Op[:1])+ue.Op[1:], ue.Err)
	}
	return err
}
