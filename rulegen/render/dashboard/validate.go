package dashboard

import (
	"errors"
	"fmt"

	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana/variables"
	"github.com/redline-sre/redline/rulegen/spec"
)

// Validate reads dashboard JSON back with the Grafana SDK and checks what the writer promises:
// not editable, the schema version, the data-source variable, and
// for every panel a title, description, unit, thresholds, the
// ${datasource} data source and at least one target whose query parses
// as PromQL once Grafana's variables are interpolated; panels lie on the
// 24-column grid without overlapping.
func Validate(data []byte) error {
	var errs []error
	d, err := grafana.Unmarshal(data)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if d.Editable {
		fail("dashboard is editable; a generated dashboard is not (edits are lost at the next generate)")
	}
	if d.UID == "" || d.Title == "" {
		fail("dashboard needs a uid and a title")
	}
	if d.SchemaVersion != grafana.SchemaVersion {
		fail("schemaVersion is %d, want %d", d.SchemaVersion, grafana.SchemaVersion)
	}
	var vars []string
	hasDatasource := false
	for _, v := range d.Variables {
		vars = append(vars, v.Name)
		if v.Name == grafana.DatasourceVariable && v.Type == "datasource" && v.Query == "prometheus" {
			hasDatasource = true
			if v.Label != DatasourceLabel {
				fail("data-source variable labelled %q, want %q", v.Label, DatasourceLabel)
			}
		}
	}
	if !hasDatasource {
		fail("no %q template variable of type datasource for prometheus", grafana.DatasourceVariable)
	}
	if len(d.Panels) == 0 {
		fail("dashboard has no panels")
	}
	ids := map[int]bool{}
	for i, p := range d.Panels {
		name := fmt.Sprintf("panel %d (%q)", i+1, p.Title)
		if p.ID <= 0 || ids[p.ID] {
			fail("%s: id %d is not a unique positive number", name, p.ID)
		}
		ids[p.ID] = true
		switch p.Type {
		case grafana.TypeTimeseries, grafana.TypeStat, grafana.TypeGauge:
		default:
			fail("%s: unexpected panel type %q", name, p.Type)
		}
		if p.Title == "" || p.Description == "" || p.Unit == "" {
			fail("%s: needs a title, a description and a unit", name)
		}
		if len(p.Thresholds) == 0 || p.Thresholds[0].Value != nil {
			fail("%s: thresholds need a base step (value null)", name)
		}
		if p.Datasource != datasource {
			fail("%s: data source is not the prometheus %s variable", name, datasource)
		}
		if len(p.Targets) == 0 {
			fail("%s: no targets", name)
		}
		for _, t := range p.Targets {
			if t.Datasource != datasource {
				fail("%s target %s: data source is not the prometheus %s variable", name, t.RefID, datasource)
			}
			if err := checkExpr(t.Expr, vars); err != nil {
				fail("%s target %s: %w", name, t.RefID, err)
			}
		}
		g := p.Grid
		if g.X < 0 || g.Y < 0 || g.W <= 0 || g.H <= 0 || g.X+g.W > gridColumns {
			fail("%s: gridPos %+v is off the %d-column grid", name, g, gridColumns)
		}
		for j, q := range d.Panels[:i] {
			if overlap(g, q.Grid) {
				fail("%s: gridPos %+v overlaps panel %d (%q) at %+v", name, g, j+1, q.Title, q.Grid)
			}
		}
	}
	return errors.Join(errs...)
}

func checkExpr(expr string, vars []string) error {
	if expr == "" {
		return errors.New("empty query")
	}
	q, err := variables.Interpolate(expr, vars)
	if err != nil {
		return err
	}
	if _, err := spec.Parser.ParseExpr(q); err != nil {
		return fmt.Errorf("invalid PromQL in %q: %w", expr, err)
	}
	return nil
}

func overlap(a, b grafana.Grid) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}
