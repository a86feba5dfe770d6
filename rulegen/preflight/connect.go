package preflight

import (
	"context"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// Connect is the client of the server that preflight itself reads with —
// credentials moved out of the URL, the HTTP configuration validated,
// Prometheus probed — for the other commands that read Prometheus
// (rulegen judge). shown is the URL without credentials; an unreachable
// server or refused credentials is an *UnreachableError.
func Connect(ctx context.Context, s Server) (api v1.API, shown string, err error) {
	c, err := connect(s)
	if err != nil {
		return nil, "", err
	}
	if err := c.probe(ctx); err != nil {
		return nil, c.shown, err
	}
	return c.api, c.shown, nil
}
