package dashboard_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/model"
	renderpkg "github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/dashboard"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana/grafanamodel"
	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana/variables"
	"github.com/redline-sre/redline/rulegen/spec"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json")

func load(t *testing.T, path string) *model.Model {
	t.Helper()
	var s *spec.Spec
	var err error
	if path == "" {
		s, err = spec.Default()
	} else {
		s, err = spec.LoadFile(path)
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s, "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func render(t *testing.T, m *model.Model) []byte {
	t.Helper()
	f, err := dashboard.Render(m)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path != "dashboards/"+m.Service+".json" {
		t.Errorf("path = %q", f.Path)
	}
	return f.Data
}

func TestGolden(t *testing.T) {
	specs, _ := filepath.Glob("testdata/*.spec.yml")
	if len(specs) == 0 {
		t.Fatal("no specs in testdata")
	}
	for _, path := range specs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got := render(t, load(t, path))
			golden := strings.TrimSuffix(path, ".spec.yml") + ".json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the generated dashboard (go test ./rulegen/render/dashboard -update)", golden)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	a := render(t, load(t, "testdata/canary.spec.yml"))
	for range 3 {
		if b := render(t, load(t, "testdata/canary.spec.yml")); !bytes.Equal(a, b) {
			t.Fatal("two renders of one spec differ")
		}
	}
}

// rawPanel is a panel as Grafana reads it, decoded without our types so
// the structural test does not trust the code it checks.
type rawPanel struct {
	ID         int               `json:"id"`
	Type       string            `json:"type"`
	Title      string            `json:"title"`
	Desc       string            `json:"description"`
	Datasource map[string]string `json:"datasource"`
	GridPos    struct{ X, Y, W, H int }
	Targets    []struct {
		Datasource map[string]string `json:"datasource"`
		Expr       string            `json:"expr"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit       string `json:"unit"`
			Thresholds struct {
				Steps []struct {
					Color string   `json:"color"`
					Value *float64 `json:"value"`
				} `json:"steps"`
			} `json:"thresholds"`
			Custom struct {
				ThresholdsStyle struct{ Mode string } `json:"thresholdsStyle"`
			} `json:"custom"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

type rawBoard struct {
	UID           string `json:"uid"`
	Description   string `json:"description"`
	SchemaVersion int    `json:"schemaVersion"`
	Refresh       string `json:"refresh"`
	Time          struct{ From, To string }
	Tags          []string   `json:"tags"`
	Panels        []rawPanel `json:"panels"`
	Templating    struct {
		List []struct {
			Name, Type string
			Query      any
		}
	}
}

// TestStructure checks the promises of the issue on the default spec and
// the test spec, reading the JSON independently of the writer's types.
func TestStructure(t *testing.T) {
	for _, path := range []string{"", "testdata/canary.spec.yml"} {
		name := path
		if name == "" {
			name = "default spec"
		}
		t.Run(name, func(t *testing.T) {
			m := load(t, path)
			data := render(t, m)
			if err := dashboard.Validate(data); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			var b rawBoard
			if err := json.Unmarshal(data, &b); err != nil {
				t.Fatal(err)
			}
			if b.UID != m.Dashboard.UID || b.UID == "" {
				t.Errorf("uid %q, want %q", b.UID, m.Dashboard.UID)
			}
			if b.SchemaVersion != 42 || b.Refresh != "30s" || b.Time.From != "now-6h" || b.Time.To != "now" || len(b.Tags) == 0 {
				t.Errorf("schemaVersion %d refresh %q time %v tags %v", b.SchemaVersion, b.Refresh, b.Time, b.Tags)
			}
			if !strings.Contains(b.Description, "DO NOT EDIT") {
				t.Errorf("description %q lacks the generated note", b.Description)
			}
			vars := map[string]string{}
			for _, v := range b.Templating.List {
				vars[v.Name] = v.Type
			}
			if vars["datasource"] != "datasource" {
				t.Errorf("variables %v: no datasource variable", vars)
			}
			if _, ok := vars["track"]; ok != (m.Canary != nil) {
				t.Errorf("track variable present = %v, canary section present = %v", ok, m.Canary != nil)
			}
			if len(b.Panels) != len(m.Dashboard.Panels) {
				t.Fatalf("%d panels, spec has %d", len(b.Panels), len(m.Dashboard.Panels))
			}
			for i, p := range b.Panels {
				where := fmt.Sprintf("panel %d %q", i+1, p.Title)
				if p.Datasource["type"] != "prometheus" || p.Datasource["uid"] != "${datasource}" {
					t.Errorf("%s: datasource %v", where, p.Datasource)
				}
				if p.Title == "" || p.Desc == "" || p.FieldConfig.Defaults.Unit == "" {
					t.Errorf("%s: title/description/unit missing", where)
				}
				steps := p.FieldConfig.Defaults.Thresholds.Steps
				if len(steps) == 0 || steps[0].Value != nil {
					t.Errorf("%s: thresholds %v", where, steps)
				}
				if p.Type == "timeseries" && p.FieldConfig.Defaults.Custom.ThresholdsStyle.Mode == "" {
					t.Errorf("%s: thresholds are not drawn", where)
				}
				if len(p.Targets) == 0 {
					t.Errorf("%s: no targets", where)
				}
				for _, tg := range p.Targets {
					if tg.Datasource["uid"] != "${datasource}" {
						t.Errorf("%s: target datasource %v", where, tg.Datasource)
					}
					q, err := variables.Interpolate(tg.Expr, []string{"datasource", "track"})
					if err == nil {
						_, err = spec.Parser.ParseExpr(q)
					}
					if err != nil {
						t.Errorf("%s: %s: %v", where, tg.Expr, err)
					}
				}
				g := p.GridPos
				if g.X < 0 || g.W <= 0 || g.X+g.W > 24 || g.H <= 0 {
					t.Errorf("%s: gridPos %+v off the grid", where, g)
				}
				for _, q := range b.Panels[:i] {
					h := q.GridPos
					if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
						t.Errorf("%s: gridPos %+v overlaps %q %+v", where, g, q.Title, h)
					}
				}
			}
			// The JSON decodes back with the SDK, panel for panel.
			d, err := grafana.Unmarshal(data)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range d.Panels {
				if p.Type != b.Panels[i].Type || p.Unit != b.Panels[i].FieldConfig.Defaults.Unit {
					t.Errorf("panel %d decoded as %s/%s", i+1, p.Type, p.Unit)
				}
			}
		})
	}
}

// TestDefaultSpecPanels pins the platform dashboard of issue 8: the eight
// golden signals as time series first, then pool saturation and firing
// rollback triggers.
func TestDefaultSpecPanels(t *testing.T) {
	d, err := dashboard.Build(load(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range d.Panels {
		got = append(got, p.Type+":"+p.Unit)
	}
	want := []string{
		"timeseries:s", "timeseries:percentunit", "timeseries:s", "timeseries:opm",
		"timeseries:percentunit", "timeseries:ops", "timeseries:s", "timeseries:s",
		"gauge:percentunit", "stat:none",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("panels %v\nwant    %v", got, want)
	}
	last := d.Panels[len(d.Panels)-1]
	if !strings.Contains(last.Targets[0].Expr, `rollback="true"`) || last.NoValue != "0" {
		t.Errorf("rollback panel: %+v", last)
	}
}

// TestTrackSplit: ratio and latency signals are drawn per canary track,
// filtered by $track; signals the canary alerts do not compare are not.
func TestTrackSplit(t *testing.T) {
	d, err := dashboard.Build(load(t, "testdata/canary.spec.yml"))
	if err != nil {
		t.Fatal(err)
	}
	byTitle := map[string]grafana.Panel{}
	for _, p := range d.Panels {
		byTitle[p.Title] = p
	}
	for title, split := range map[string]bool{"5xx ratio": true, "Api latency": true, "Gc pause": false, "Declines": false} {
		p, ok := byTitle[title]
		if !ok {
			t.Fatalf("no panel %q", title)
		}
		e := p.Targets[0].Expr
		if got := strings.Contains(e, `deployment=~"$track"`) && strings.Contains(e, "by (deployment"); got != split {
			t.Errorf("%s: split by track = %v, want %v: %s", title, got, split, e)
		}
		if !strings.Contains(e, "$__rate_interval") {
			t.Errorf("%s: rate without $__rate_interval: %s", title, e)
		}
	}
	hit := byTitle["Cache hit"]
	if hit.Thresholds[0].Color != "red" || hit.Thresholds[1].Color != "green" {
		t.Errorf("op >= thresholds: %+v", hit.Thresholds)
	}
}

func TestNoDashboardSection(t *testing.T) {
	m := load(t, "testdata/canary.spec.yml")
	m.Dashboard = nil
	f, err := dashboard.Render(m)
	if err != nil || f.Path != "" || f.Data != nil {
		t.Errorf("Render without a dashboard section = %+v, %v", f, err)
	}
}

func templateVar(b map[string]any, name string) map[string]any {
	for _, v := range b["templating"].(map[string]any)["list"].([]any) {
		if v := v.(map[string]any); v["name"] == name {
			return v
		}
	}
	panic("no template variable " + name)
}

// TestTrackVariable: the canary track picker is a custom variable Grafana
// reads (refresh a number), and "All" keeps series without the label.
func TestTrackVariable(t *testing.T) {
	var b map[string]any
	if err := json.Unmarshal(render(t, load(t, "testdata/canary.spec.yml")), &b); err != nil {
		t.Fatal(err)
	}
	v := templateVar(b, "track")
	if v["refresh"] != 0.0 || v["allValue"] != ".*" || v["includeAll"] != true {
		t.Errorf("track variable refresh %v allValue %q includeAll %v, want 0, \".*\", true", v["refresh"], v["allValue"], v["includeAll"])
	}
	if ds := templateVar(b, "datasource"); ds["refresh"] != 1.0 || ds["label"] != "Data source" {
		t.Errorf("datasource variable refresh %v label %v", ds["refresh"], ds["label"])
	}
}

// TestValidateRejects breaks a good dashboard one way at a time.
func TestValidateRejects(t *testing.T) {
	good := render(t, load(t, "testdata/canary.spec.yml"))
	for _, tc := range []struct {
		name, want string
		edit       func(b map[string]any, panels []map[string]any)
	}{
		{"overlap", "overlaps panel 1", func(b map[string]any, p []map[string]any) {
			p[1]["gridPos"] = p[0]["gridPos"]
		}},
		{"off grid", "off the 24-column grid", func(b map[string]any, p []map[string]any) {
			p[0]["gridPos"].(map[string]any)["x"] = 20.0
		}},
		{"panel datasource", `panel 2 ("Api latency"): data source is not`, func(b map[string]any, p []map[string]any) {
			p[1]["datasource"] = "Prometheus"
		}},
		{"target datasource", "target A: data source is not", func(b map[string]any, p []map[string]any) {
			delete(p[0]["targets"].([]any)[0].(map[string]any), "datasource")
		}},
		{"bad promql", "invalid PromQL", func(b map[string]any, p []map[string]any) {
			p[0]["targets"].([]any)[0].(map[string]any)["expr"] = "sum(rate(x[$__rate_interval])"
		}},
		{"unknown variable", "unknown Grafana variable $env", func(b map[string]any, p []map[string]any) {
			p[0]["targets"].([]any)[0].(map[string]any)["expr"] = `up{env="$env"}`
		}},
		{"no unit", "needs a title, a description and a unit", func(b map[string]any, p []map[string]any) {
			delete(p[2]["fieldConfig"].(map[string]any)["defaults"].(map[string]any), "unit")
		}},
		{"no targets", "no targets", func(b map[string]any, p []map[string]any) {
			p[8]["targets"] = []any{}
		}},
		{"schema version", "schemaVersion is 0, want 42", func(b map[string]any, p []map[string]any) {
			delete(b, "schemaVersion")
		}},
		{"no datasource variable", `no "datasource" template variable`, func(b map[string]any, p []map[string]any) {
			b["templating"] = map[string]any{"list": []any{}}
		}},
		{"duplicate id", "is not a unique positive number", func(b map[string]any, p []map[string]any) {
			p[3]["id"] = 1.0
		}},
		// Grafana's own model, as 0.2.0 wrote it: the SDK's zero refresh
		// is false where Grafana wants a number.
		{"refresh false", "cannot unmarshal bool", func(b map[string]any, p []map[string]any) {
			templateVar(b, "track")["refresh"] = false
		}},
		{"editable", "dashboard is editable", func(b map[string]any, p []map[string]any) {
			b["editable"] = true
		}},
		{"datasource label", `data-source variable labelled "Prometheus"`, func(b map[string]any, p []map[string]any) {
			templateVar(b, "datasource")["label"] = "Prometheus"
		}},
		{"required option", "options.legend.showLegend: required field is missing", func(b map[string]any, p []map[string]any) {
			delete(p[0]["options"].(map[string]any)["legend"].(map[string]any), "showLegend")
		}},
		{"gauge option", "options.minVizHeight: required field is missing", func(b map[string]any, p []map[string]any) {
			delete(p[7]["options"].(map[string]any), "minVizHeight")
		}},
		{"unknown key", "unexpected field 'legendFormt'", func(b map[string]any, p []map[string]any) {
			p[0]["targets"].([]any)[0].(map[string]any)["legendFormt"] = "x"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b map[string]any
			if err := json.Unmarshal(good, &b); err != nil {
				t.Fatal(err)
			}
			var panels []map[string]any
			for _, p := range b["panels"].([]any) {
				panels = append(panels, p.(map[string]any))
			}
			tc.edit(b, panels)
			bad, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			// The writer's own checks, then Grafana's model (the test's
			// checker, as promtool is for rules).
			err = errors.Join(dashboard.Validate(bad), grafanamodel.Check(bad))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate, grafanamodel.Check = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := dashboard.Validate([]byte("{")); err == nil {
		t.Error("truncated JSON validated")
	}
}

// TestGrafanasModelReadsEveryDashboard: Grafana's own dashboard model
// decodes both dashboards of the default spec and of every testdata spec,
// as Grafana does and strictly.
func TestGrafanasModelReadsEveryDashboard(t *testing.T) {
	specs, _ := filepath.Glob("testdata/*.spec.yml")
	for _, path := range append([]string{""}, specs...) {
		m := load(t, path)
		for _, r := range []func(*model.Model) (renderpkg.File, error){dashboard.Render, dashboard.RenderSLO} {
			f, err := r(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Data) == 0 { // no dashboard: section
				continue
			}
			if err := grafanamodel.Check(f.Data); err != nil {
				t.Errorf("%s (spec %q): %v", f.Path, path, err)
			}
		}
	}
}
