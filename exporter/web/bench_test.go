package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/config"
	"github.com/redline-sre/redline/exporter/lifecycle"
)

// replayTarget sends a fixed set of metrics. The benchmark measures the
// HTTP layer (shared collection, target labels, gathering, encoding), so
// its targets replay series shaped like a real scrape rather than read
// servers: BenchmarkScrape (exporter/postgres) and BenchmarkCollect
// (exporter/pgbouncer) measure the reading against real ones.
type replayTarget []prometheus.Metric

func (r replayTarget) Collect(_ context.Context, ch chan<- prometheus.Metric) {
	for _, m := range r {
		ch <- m
	}
}

func (replayTarget) Close() {}

// benchmarkShape is a scrape of the benchmark database (cmd/redline-bench):
// per database, the top 50 tables (4 series each) and the top 50
// sequences (2 each); pgBouncer with 20 pools (15 series each) and their
// databases and stats.
func benchmarkShape() (postgres, pgbouncer replayTarget) {
	// One Desc per name, as collectors declare them.
	descs := map[string]*prometheus.Desc{}
	gauge := func(name string, labels []string, values ...string) prometheus.Metric {
		d, ok := descs[name]
		if !ok {
			d = prometheus.NewDesc(name, "Benchmark series "+name+".", labels, nil)
			descs[name] = d
		}
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 42, values...)
	}
	table := []string{"datname", "schemaname", "relname"}
	seq := []string{"datname", "schemaname", "sequence", "cycle"}
	for _, db := range []string{"bench_1", "bench_2"} {
		for i := range 50 {
			schema, rel := fmt.Sprintf("s%02d", i%10+1), fmt.Sprintf("t%d", i)
			for _, n := range []string{"pg_stat_user_tables_n_dead_tup", "pg_stat_user_tables_n_live_tup", "pg_table_dead_tuple_ratio", "pg_table_last_autovacuum_age_seconds"} {
				postgres = append(postgres, gauge(n, table, db, schema, rel))
			}
			for _, n := range []string{"pg_sequence_used_ratio", "pg_sequence_calls_left"} {
				postgres = append(postgres, gauge(n, seq, db, schema, rel+"_id_seq", "false"))
			}
		}
	}
	pool := []string{"database", "user"}
	for i := range 20 {
		for j := range 15 {
			pgbouncer = append(pgbouncer, gauge(fmt.Sprintf("pgbouncer_pools_metric_%d", j), pool, fmt.Sprintf("pool_%02d", i), "bench"))
		}
	}
	return postgres, pgbouncer
}

// BenchmarkMetricsHandler measures one GET /metrics of two targets with
// the shape of the benchmark database's scrape (about 1,000 series).
func BenchmarkMetricsHandler(b *testing.B) {
	pg, pb := benchmarkShape()
	set := NewTargets(slog.New(slog.DiscardHandler))
	set.Swap(map[string]collector.Target{"db": pg, "bouncer": pb})
	self := prometheus.NewRegistry()
	r := lifecycle.NewReloader(func() (*config.Config, error) { return &config.Config{}, nil }, nil, set, self, quiet())
	h, err := NewHandler(Options{TelemetryPath: "/metrics", DefaultTimeout: 5 * time.Second, Self: self}, set, r, quiet())
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
		size = w.Body.Len()
		if !strings.Contains(w.Body.String(), `target="bouncer"`) {
			b.Fatal("target label missing")
		}
	}
	b.ReportMetric(float64(len(pg)+len(pb)), "series/op")
	b.ReportMetric(float64(size), "bytes/scrape")
}
