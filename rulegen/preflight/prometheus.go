package preflight

import (
	"context"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	pmodel "github.com/prometheus/common/model"
)

// Prometheus is a connected client for the packages that ask questions of
// their own beside the checks (the release gate's canary comparisons). It
// carries the same credential handling as Run: the URL it shows holds none.
type Prometheus struct{ c *client }

// Connect builds a client for s, as Run does; it sends nothing.
func Connect(s Server) (*Prometheus, error) {
	c, err := connect(s)
	if err != nil {
		return nil, err
	}
	return &Prometheus{c: c}, nil
}

// URL is the server's URL without credentials.
func (p *Prometheus) URL() string { return p.c.shown }

// API is the Prometheus API client itself, for readers that need more
// than instant queries (rulegen judge's range queries).
func (p *Prometheus) API() v1.API { return p.c.api }

// Probe is Run's first request: an *UnreachableError when Prometheus does
// not answer or refuses the credentials.
func (p *Prometheus) Probe(ctx context.Context) error { return p.c.probe(ctx) }

// Query evaluates expr at at within timeout and returns its samples with
// the request as evidence (the error, scrubbed of URLs, is in it too).
func (p *Prometheus) Query(ctx context.Context, expr string, at time.Time, timeout time.Duration) (pmodel.Vector, Query, error) {
	e := &env{c: p.c, at: at, timeout: timeout}
	v, err := e.vector(ctx, expr)
	var q Query
	if len(e.queries) > 0 {
		q = e.queries[0]
	}
	return v, q, err
}

// FormatValue prints a sample value as the checks' value column does.
func FormatValue(v float64) string { return formatValue(v) }
