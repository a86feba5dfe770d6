package preflight

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	pmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/model"
)

// evidenceTable is one exporter-side table of the run of show, read from
// Prometheus (the metrics redline_exporter publishes) rather than from the
// databases: the preflight needs no database credentials. A table is
// written only when a signal of the spec reads one of its families (reads
// says which), and its queries carry the label matchers every such
// selector of the spec shares: another service's evidence never shows the
// platform's pools, and the platform's shows the exporter its triggers
// read.
type evidenceTable struct {
	name string
	// reads are metric-name prefixes; scope the family whose shared
	// matchers scope the queries.
	reads []string
	scope string
	build func(ctx context.Context, e *env, sc string) (data []byte, notRead []string)
}

var tables = []evidenceTable{
	{"pgbouncer_pools.tsv", []string{"pgbouncer_pool"}, "pgbouncer_", pgbouncerPools},
	{"sequences.txt", []string{"pg_sequence_"}, "pg_", sequences},
	{"pg_dead_tuples_top5.txt", []string{"pg_table_dead_tuple", "pg_stat_user_tables_"}, "pg_", deadTuples},
}

// selectors lists the spec's series selectors, with their signal.
func selectors(m *model.Model) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	for _, sig := range m.Signals {
		for _, vs := range []*parser.VectorSelector{sig.Errors, sig.Total, sig.Histogram, sig.Metric, sig.Counter} {
			if vs != nil {
				out = append(out, vs)
			}
		}
	}
	return out
}

// readsFamily says whether a selector of the spec reads a metric whose
// name starts with one of prefixes.
func readsFamily(m *model.Model, prefixes []string) bool {
	for _, vs := range selectors(m) {
		for _, p := range prefixes {
			if strings.HasPrefix(vs.Name, p) {
				return true
			}
		}
	}
	return false
}

// scope is the label matchers that every selector of the spec reading a
// metric family (prefix) has, as {…}: the same exporter and job the
// triggers read, without a matcher one signal adds for itself
// (cycle="false" on the sequence-exhaustion signal).
func scope(m *model.Model, prefix string) string {
	var common []string
	first := true
	for _, vs := range selectors(m) {
		if !strings.HasPrefix(vs.Name, prefix) {
			continue
		}
		var these []string
		for _, lm := range vs.LabelMatchers {
			if lm.Name != pmodel.MetricNameLabel {
				these = append(these, lm.String())
			}
		}
		if first {
			common, first = these, false
			continue
		}
		common = slices.DeleteFunc(common, func(s string) bool { return !slices.Contains(these, s) })
	}
	if len(common) == 0 {
		return ""
	}
	sort.Strings(common)
	return "{" + strings.Join(common, ", ") + "}"
}

// joined queries several metrics and lines their samples up by a key of
// labels: one row per key, one column per metric. A query that fails
// leaves its column empty and is listed in notRead, with why.
func joined(ctx context.Context, e *env, exprs []string, key []pmodel.LabelName) (rows map[string][]string, ids map[string]pmodel.Metric, notRead []string) {
	rows = map[string][]string{}
	ids = map[string]pmodel.Metric{}
	for col, expr := range exprs {
		v, err := e.vector(ctx, expr)
		if err != nil {
			notRead = append(notRead, err.Error())
			continue
		}
		for _, s := range v {
			id := pmodel.Metric{}
			for _, k := range key {
				id[k] = s.Metric[k]
			}
			k := id.String()
			if rows[k] == nil {
				rows[k] = make([]string, len(exprs))
				ids[k] = id
			}
			rows[k][col] = formatValue(float64(s.Value))
		}
	}
	return rows, ids, notRead
}

// notReadLines writes what a table could not read, as comment lines.
func notReadLines(b *bytes.Buffer, notRead []string) {
	for _, n := range notRead {
		fmt.Fprintf(b, "# not read: %s\n", oneLine(n))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pgbouncerPools(ctx context.Context, e *env, sc string) ([]byte, []string) {
	cols := []string{"saturation_ratio", "client_active", "client_waiting", "server_active", "server_idle", "server_used", "maxwait_seconds"}
	metrics := []string{"pgbouncer_pool_saturation_ratio", "pgbouncer_pools_client_active_connections", "pgbouncer_pools_client_waiting_connections",
		"pgbouncer_pools_server_active_connections", "pgbouncer_pools_server_idle_connections", "pgbouncer_pools_server_used_connections", "pgbouncer_pools_client_maxwait_seconds"}
	exprs := make([]string, len(metrics))
	for i, name := range metrics {
		exprs[i] = name + sc
	}
	rows, ids, notRead := joined(ctx, e, exprs, []pmodel.LabelName{"target", "database", "user"})
	sizes, _, more := joined(ctx, e, []string{"pgbouncer_databases_pool_size" + sc}, []pmodel.LabelName{"target", "database"})
	notRead = append(notRead, more...)
	var b bytes.Buffer
	notReadLines(&b, notRead)
	fmt.Fprintf(&b, "target\tdatabase\tuser\tpool_size\t%s\n", strings.Join(cols, "\t"))
	for _, k := range sortedKeys(rows) {
		id := ids[k]
		size := ""
		if s := sizes[pmodel.Metric{"target": id["target"], "database": id["database"]}.String()]; s != nil {
			size = s[0]
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", id["target"], id["database"], id["user"], size, strings.Join(rows[k], "\t"))
	}
	return b.Bytes(), notRead
}

// table writes a titled text table with the queries it came from.
func table(b *bytes.Buffer, title string, queries []string, header []string, rows map[string][]string, ids map[string]pmodel.Metric, key []pmodel.LabelName, order []string) {
	fmt.Fprintf(b, "# %s\n", title)
	for _, q := range queries {
		fmt.Fprintf(b, "# query: %s\n", q)
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	if len(rows) == 0 {
		fmt.Fprintln(tw, "(none)")
	}
	for _, k := range order {
		var cells []string
		for _, l := range key {
			cells = append(cells, string(ids[k][l]))
		}
		cells = append(cells, rows[k]...)
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
	b.WriteString("\n")
}

// byFirstColumn orders rows by their first value, largest first.
func byFirstColumn(rows map[string][]string) []string {
	keys := sortedKeys(rows)
	sort.SliceStable(keys, func(i, j int) bool {
		return parseOrZero(rows[keys[i]][0]) > parseOrZero(rows[keys[j]][0])
	})
	return keys
}

func parseOrZero(s string) float64 {
	var f float64
	_, _ = fmt.Sscan(s, &f)
	return f
}

func sequences(ctx context.Context, e *env, sc string) ([]byte, []string) {
	var b bytes.Buffer
	behindKey := []pmodel.LabelName{"target", "datname", "schemaname", "sequence", "table", "column"}
	q := []string{"pg_sequence_behind_column" + sc}
	rows, ids, notRead := joined(ctx, e, q, behindKey)
	notReadLines(&b, notRead)
	table(&b, "Sequences behind their column (the next insert collides)", q,
		[]string{"target", "datname", "schemaname", "sequence", "table", "column", "behind"}, rows, ids, behindKey, byFirstColumn(rows))
	usedKey := []pmodel.LabelName{"target", "datname", "schemaname", "sequence"}
	q = []string{"topk(10, pg_sequence_used_ratio" + sc + ")", "pg_sequence_calls_left" + sc}
	rows, ids, more := joined(ctx, e, q, usedKey)
	notReadLines(&b, more)
	notRead = append(notRead, more...)
	for k, r := range rows {
		if r[0] == "" { // calls_left of a sequence outside the top 10
			delete(rows, k)
		}
	}
	table(&b, "Sequences nearest exhaustion (top 10 by used ratio)", q,
		[]string{"target", "datname", "schemaname", "sequence", "used_ratio", "calls_left"}, rows, ids, usedKey, byFirstColumn(rows))
	return b.Bytes(), notRead
}

func deadTuples(ctx context.Context, e *env, sc string) ([]byte, []string) {
	key := []pmodel.LabelName{"target", "datname", "schemaname", "relname"}
	q := []string{"topk(5, pg_stat_user_tables_n_dead_tup" + sc + ")", "pg_stat_user_tables_n_live_tup" + sc, "pg_table_dead_tuple_ratio" + sc, "pg_table_last_autovacuum_age_seconds" + sc}
	rows, ids, notRead := joined(ctx, e, q, key)
	for k, r := range rows {
		if r[0] == "" {
			delete(rows, k)
		}
	}
	var b bytes.Buffer
	notReadLines(&b, notRead)
	table(&b, "Tables with the most dead tuples (top 5)", q,
		[]string{"target", "datname", "schemaname", "relname", "n_dead_tup", "n_live_tup", "dead_ratio", "last_autovacuum_age_seconds"}, rows, ids, key, byFirstColumn(rows))
	return b.Bytes(), notRead
}

// promTargets lists the scrape targets of the jobs the spec's selectors
// name (job="…"), not every target of the server.
func promTargets(ctx context.Context, e *env, jobs []string) ([]byte, []string) {
	qctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	res, err := e.c.api.Targets(qctx)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Prometheus targets (GET /api/v1/targets) of the jobs %s at %s\n", strings.Join(jobs, ", "), e.at.Format(time.RFC3339))
	if err != nil {
		why := "targets API: " + e.why(ctx, qctx, err).Error()
		notReadLines(&b, []string{why})
		return b.Bytes(), []string{why}
	}
	type row struct{ job, instance, health, last, dur, err string }
	var rows []row
	for _, t := range res.Active {
		if !slices.Contains(jobs, string(t.Labels["job"])) {
			continue
		}
		rows = append(rows, row{string(t.Labels["job"]), string(t.Labels["instance"]), string(t.Health),
			t.LastScrape.UTC().Format(time.RFC3339), fmt.Sprintf("%.3fs", t.LastScrapeDuration), oneLine(t.LastError)})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].job != rows[j].job {
			return rows[i].job < rows[j].job
		}
		return rows[i].instance < rows[j].instance
	})
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "job\tinstance\thealth\tlast_scrape\tduration\tlast_error")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.job, r.instance, r.health, r.last, r.dur, cell(r.err))
	}
	tw.Flush()
	return b.Bytes(), nil
}
