package preflight

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	pmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/model"
)

// tables are the exporter-side tables of the run of show, read from
// Prometheus (the metrics redline_exporter publishes) rather than from the
// databases: the preflight needs no database credentials.
var tables = map[string]func(context.Context, *env, *model.Model) ([]byte, error){
	"pgbouncer_pools.tsv":     pgbouncerPools,
	"sequences.txt":           sequences,
	"pg_dead_tuples_top5.txt": deadTuples,
	"prom_targets.txt":        promTargets,
}

// scope is the job matcher of the signals that read a metric family
// (pgbouncer_, pg_): the tables show the same exporter the triggers read.
func scope(m *model.Model, prefix string) string {
	for _, sig := range m.Signals {
		for _, vs := range []*parser.VectorSelector{sig.Metric, sig.Counter, sig.Total, sig.Histogram} {
			if vs == nil || !strings.HasPrefix(vs.Name, prefix) {
				continue
			}
			for _, lm := range vs.LabelMatchers {
				if lm.Name == "job" && lm.Type == labels.MatchEqual {
					return "{" + lm.String() + "}"
				}
			}
		}
	}
	return ""
}

// joined queries several metrics and lines their samples up by a key of
// labels: one row per key, one column per metric.
func joined(ctx context.Context, e *env, exprs []string, key []pmodel.LabelName) (map[string][]string, map[string]pmodel.Metric, error) {
	rows := map[string][]string{}
	ids := map[string]pmodel.Metric{}
	for col, expr := range exprs {
		v, err := e.vector(ctx, expr)
		if err != nil {
			return nil, nil, err
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
	return rows, ids, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pgbouncerPools(ctx context.Context, e *env, m *model.Model) ([]byte, error) {
	sc := scope(m, "pgbouncer_")
	cols := []string{"saturation_ratio", "client_active", "client_waiting", "server_active", "server_idle", "server_used", "maxwait_seconds"}
	metrics := []string{"pgbouncer_pool_saturation_ratio", "pgbouncer_pools_client_active_connections", "pgbouncer_pools_client_waiting_connections",
		"pgbouncer_pools_server_active_connections", "pgbouncer_pools_server_idle_connections", "pgbouncer_pools_server_used_connections", "pgbouncer_pools_client_maxwait_seconds"}
	exprs := make([]string, len(metrics))
	for i, name := range metrics {
		exprs[i] = name + sc
	}
	rows, ids, err := joined(ctx, e, exprs, []pmodel.LabelName{"target", "database", "user"})
	if err != nil {
		return nil, err
	}
	sizes, _, err := joined(ctx, e, []string{"pgbouncer_databases_pool_size" + sc}, []pmodel.LabelName{"target", "database"})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "target\tdatabase\tuser\tpool_size\t%s\n", strings.Join(cols, "\t"))
	for _, k := range sortedKeys(rows) {
		id := ids[k]
		size := ""
		if s := sizes[pmodel.Metric{"target": id["target"], "database": id["database"]}.String()]; s != nil {
			size = s[0]
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\n", id["target"], id["database"], id["user"], size, strings.Join(rows[k], "\t"))
	}
	return b.Bytes(), nil
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

func sequences(ctx context.Context, e *env, m *model.Model) ([]byte, error) {
	sc := scope(m, "pg_")
	var b bytes.Buffer
	behindKey := []pmodel.LabelName{"target", "datname", "schemaname", "sequence", "table", "column"}
	q := []string{"pg_sequence_behind_column" + sc}
	rows, ids, err := joined(ctx, e, q, behindKey)
	if err != nil {
		return nil, err
	}
	table(&b, "Sequences behind their column (the next insert collides)", q,
		[]string{"target", "datname", "schemaname", "sequence", "table", "column", "behind"}, rows, ids, behindKey, byFirstColumn(rows))
	usedKey := []pmodel.LabelName{"target", "datname", "schemaname", "sequence"}
	q = []string{"topk(10, pg_sequence_used_ratio" + sc + ")", "pg_sequence_calls_left" + sc}
	rows, ids, err = joined(ctx, e, q, usedKey)
	if err != nil {
		return nil, err
	}
	for k, r := range rows {
		if r[0] == "" { // calls_left of a sequence outside the top 10
			delete(rows, k)
		}
	}
	table(&b, "Sequences nearest exhaustion (top 10 by used ratio)", q,
		[]string{"target", "datname", "schemaname", "sequence", "used_ratio", "calls_left"}, rows, ids, usedKey, byFirstColumn(rows))
	return b.Bytes(), nil
}

func deadTuples(ctx context.Context, e *env, m *model.Model) ([]byte, error) {
	sc := scope(m, "pg_")
	key := []pmodel.LabelName{"target", "datname", "schemaname", "relname"}
	q := []string{"topk(5, pg_stat_user_tables_n_dead_tup" + sc + ")", "pg_stat_user_tables_n_live_tup" + sc, "pg_table_dead_tuple_ratio" + sc, "pg_table_last_autovacuum_age_seconds" + sc}
	rows, ids, err := joined(ctx, e, q, key)
	if err != nil {
		return nil, err
	}
	for k, r := range rows {
		if r[0] == "" {
			delete(rows, k)
		}
	}
	var b bytes.Buffer
	table(&b, "Tables with the most dead tuples (top 5)", q,
		[]string{"target", "datname", "schemaname", "relname", "n_dead_tup", "n_live_tup", "dead_ratio", "last_autovacuum_age_seconds"}, rows, ids, key, byFirstColumn(rows))
	return b.Bytes(), nil
}

func promTargets(ctx context.Context, e *env, _ *model.Model) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	res, err := e.c.api.Targets(ctx)
	if err != nil {
		return nil, fmt.Errorf("targets API: %w", scrub(err))
	}
	type row struct{ job, instance, health, last, dur, err string }
	var rows []row
	for _, t := range res.Active {
		rows = append(rows, row{string(t.Labels["job"]), string(t.Labels["instance"]), string(t.Health),
			t.LastScrape.UTC().Format(time.RFC3339), fmt.Sprintf("%.3fs", t.LastScrapeDuration), oneLine(t.LastError)})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].job != rows[j].job {
			return rows[i].job < rows[j].job
		}
		return rows[i].instance < rows[j].instance
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Prometheus targets (GET /api/v1/targets) at %s\n", e.at.Format(time.RFC3339))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "job\tinstance\thealth\tlast_scrape\tduration\tlast_error")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.job, r.instance, r.health, r.last, r.dur, cell(r.err))
	}
	tw.Flush()
	return b.Bytes(), nil
}
