package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var clockSkewDesc = prometheus.NewDesc("pg_clock_skew_seconds",
	"The database server's clock_timestamp() minus the exporter's clock at the midpoint of the round trip (best of 3 round trips); positive when the database is ahead.",
	nil, nil)

// skewSamples is how many round trips are timed; the shortest one bounds
// the error best, since the server read its clock somewhere inside it.
const skewSamples = 3

func init() {
	Collectors.Register("clock_skew", "Difference between the database server's clock and the exporter's", collectClockSkew)
}

func collectClockSkew(ctx context.Context, s *scrape, ch chan<- prometheus.Metric) error {
	db, err := s.t.database(s.t.maintenance)
	if err != nil {
		return err
	}
	// One connection for all samples: the first round trip may pay for
	// connecting, the later ones measure the network alone.
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("clock skew: %w", err)
	}
	defer conn.Release()

	bestRTT := time.Duration(-1)
	var skew time.Duration
	for range skewSamples {
		var server time.Time
		before := s.t.now()
		if err := conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&server); err != nil {
			return fmt.Errorf("clock skew: %w", err)
		}
		after := s.t.now()
		rtt := after.Sub(before)
		if bestRTT < 0 || rtt < bestRTT {
			bestRTT = rtt
			// Round(0) drops the monotonic reading so Sub compares wall
			// clocks, which is what skew is about.
			mid := before.Add(rtt / 2).Round(0)
			skew = server.Sub(mid)
		}
	}
	ch <- prometheus.MustNewConstMetric(clockSkewDesc, prometheus.GaugeValue, skew.Seconds())
	return nil
}
