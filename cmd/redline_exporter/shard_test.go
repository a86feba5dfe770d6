package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

// TestHashmodShardsCollectWhatOneServerCollects: four Prometheus servers,
// each keeping its hashmod share of one exporter's /probe targets, collect
// together exactly the series one server scraping every target collects:
// none missing, none twice. This is how an operator spreads a fleet of
// databases over a sharded Prometheus; it holds only while every series of
// a /probe answer is bound to its target (no series a probe shares with
// another, such as the exporter's own metrics, which stay on /metrics).
func TestHashmodShardsCollectWhatOneServerCollects(t *testing.T) {
	const shards = 4
	pg := sharedPostgres(t)
	pb := newPgBouncer(t)
	dir := t.TempDir()
	pbDSN := filepath.Join(dir, "pgbouncer.dsn")
	writeFile(t, pbDSN, pb.StatsDSN())
	pgDSN := filepath.Join(dir, "postgres.dsn")
	writeFile(t, pgDSN, pg.DSN("postgres"))
	// Several names for the same two servers: each is its own target,
	// with its own target label, as separate databases would be.
	var cfg strings.Builder
	var names []string
	cfg.WriteString("pgbouncer:\n")
	for i := 0; i < 6; i++ {
		name := fmt.Sprintf("bouncer-%d", i)
		names = append(names, name)
		fmt.Fprintf(&cfg, "  - name: %s\n    dsn_file: %s\n", name, pbDSN)
	}
	cfg.WriteString("postgres:\n")
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("pg-%d", i)
		names = append(names, name)
		fmt.Fprintf(&cfg, "  - name: %s\n    dsn_file: %s\n    databases: [postgres]\n", name, pgDSN)
	}
	file := filepath.Join(dir, "redline.yml")
	writeFile(t, file, cfg.String())
	e := startExporter(t, "http", "--config.file="+file)
	addr := strings.TrimPrefix(e.URL, "http://")

	probe := []map[string]any{
		{"source_labels": []string{"__address__"}, "target_label": "__param_target"},
		{"source_labels": []string{"__param_target"}, "target_label": "instance"},
		{"target_label": "__address__", "replacement": addr},
	}
	job := func(relabel []map[string]any) testenv.PrometheusOptions {
		return testenv.PrometheusOptions{Scrape: []testenv.ScrapeTarget{{
			Job: "redline", Targets: names, MetricsPath: "/probe", RelabelConfigs: relabel,
		}}}
	}
	servers := make([]*testenv.Prometheus, shards)
	for i := range servers {
		// The shard is chosen on the target name before it becomes the
		// instance, as in Prometheus's documented hashmod example.
		shard := append([]map[string]any{
			{"source_labels": []string{"__address__"}, "modulus": shards, "target_label": "__tmp_hash", "action": "hashmod"},
			{"source_labels": []string{"__tmp_hash"}, "regex": fmt.Sprint(i), "action": "keep"},
		}, probe...)
		servers[i] = testenv.NewPrometheus(t, job(shard))
	}
	whole := testenv.NewPrometheus(t, job(probe))

	// Wait until every server has scraped each of its targets twice with
	// success, so that each holds a whole answer.
	ready := func(p *testenv.Prometheus) int {
		return len(instantQuery(t, p.URL, `count_over_time(up{job="redline"}[1m]) >= 2 and up == 1`))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := 0
		perShard := make([]int, shards)
		for i, p := range servers {
			perShard[i] = ready(p)
			n += perShard[i]
		}
		if n == len(names) && ready(whole) == len(names) {
			t.Logf("targets per shard: %v", perShard)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("shards scrape %v of %d targets, the whole server %d", perShard, len(names), ready(whole))
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Compare label sets, not values: values move between two servers'
	// scrapes, which series each target yields does not.
	const q = `{job="redline", __name__!~"scrape_.*|up"}`
	want := map[string]int{}
	for _, s := range instantQuery(t, whole.URL, q) {
		want[s]++
	}
	got := map[string]int{}
	for _, p := range servers {
		for _, s := range instantQuery(t, p.URL, q) {
			got[s]++
		}
	}
	if len(want) == 0 {
		t.Fatal("the whole server collected nothing")
	}
	var missing, extra, twice []string
	for s := range want {
		if got[s] == 0 {
			missing = append(missing, s)
		}
	}
	for s, n := range got {
		switch {
		case want[s] == 0:
			extra = append(extra, s)
		case n > 1:
			twice = append(twice, s)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(twice)
	if len(missing)+len(extra)+len(twice) > 0 {
		t.Errorf("%d series in one server; shards' union lacks %d: %v\nhas %d more: %v\nhas %d twice: %v",
			len(want), len(missing), missing, len(extra), extra, len(twice), twice)
		return
	}
	t.Logf("%d series, each collected by exactly one of %d shards", len(want), shards)
}

// instantQuery returns the label sets of an instant query's answer, each
// as one sorted string.
func instantQuery(t *testing.T, base, query string) []string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "success" {
		t.Fatalf("%s: %s", query, body.Error)
	}
	out := make([]string, 0, len(body.Data.Result))
	for _, r := range body.Data.Result {
		keys := make([]string, 0, len(r.Metric))
		for k := range r.Metric {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%q,", k, r.Metric[k])
		}
		out = append(out, b.String())
	}
	return out
}
