package grafana

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/grafana-tools/sdk"

	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana/grafanamodel"
)

func sample() *Dashboard {
	thr := 0.9
	zero, one := 0.0, 1.0
	steps := []Step{{Color: "green"}, {Color: "red", Value: &thr}}
	target := func(expr string) []Target {
		return []Target{{RefID: "A", Datasource: "${datasource}", Expr: expr, Legend: "{{pool}}"}}
	}
	return &Dashboard{
		UID: "svc", Title: "Service", Description: "generated", Tags: []string{"a", "b"},
		From: "now-6h", Refresh: "30s", SchemaVersion: SchemaVersion,
		Variables: []Variable{
			{Name: "datasource", Label: "Prometheus", Type: "datasource", Query: "prometheus"},
			{Name: "track", Label: "track", Type: "custom", Query: "canary,stable", Multi: true, IncludeAll: true},
		},
		Panels: []Panel{
			{ID: 1, Type: TypeTimeseries, Title: "ts", Description: "d1", Datasource: "${datasource}", Unit: "s",
				Thresholds: steps, Grid: Grid{0, 0, 8, 8}, Targets: target("up")},
			{ID: 2, Type: TypeGauge, Title: "gauge", Description: "d2", Datasource: "${datasource}", Unit: "percentunit",
				Min: &zero, Max: &one, Thresholds: steps, Grid: Grid{8, 0, 4, 8}, Targets: target("pool_ratio")},
			{ID: 3, Type: TypeStat, Title: "stat", Description: "d3", Datasource: "${datasource}", Unit: "none",
				NoValue: "0", Thresholds: steps, Grid: Grid{12, 0, 4, 8}, Targets: target("count(ALERTS)")},
		},
	}
}

// TestRoundTrip writes a dashboard with every panel type and reads it back:
// what the SDK cannot hold (gauge, stat field config, description) must
// survive.
func TestRoundTrip(t *testing.T) {
	in := sample()
	data, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		a, _ := json.MarshalIndent(in, "", " ")
		b, _ := json.MarshalIndent(out, "", " ")
		t.Errorf("round trip differs:\n%s\n---\n%s", a, b)
	}
	again, err := Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Error("encoding is not stable across a round trip")
	}
}

// TestSDKReadsIt decodes the JSON with the SDK directly, as a tool built on
// it would, and checks the parts Grafana reads for modern panels.
func TestSDKReadsIt(t *testing.T) {
	data, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	var b sdk.Board
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	if b.SchemaVersion != SchemaVersion || b.UID != "svc" || b.Time.From != "now-6h" || b.Refresh == nil || b.Refresh.Value != "30s" {
		t.Errorf("board: schemaVersion %d uid %q from %q refresh %+v", b.SchemaVersion, b.UID, b.Time.From, b.Refresh)
	}
	if len(b.Panels) != 3 {
		t.Fatalf("%d panels, want 3", len(b.Panels))
	}
	if ts := b.Panels[0].TimeseriesPanel; ts == nil || ts.FieldConfig.Defaults.Unit != "s" || ts.FieldConfig.Defaults.Custom.ThresholdsStyle.Mode == "off" {
		t.Errorf("timeseries panel decoded as %+v", b.Panels[0])
	}
	gauge := b.Panels[1].CustomPanel
	if gauge == nil || b.Panels[1].Type != "gauge" {
		t.Fatalf("gauge decoded as %+v", b.Panels[1])
	}
	fc := (*gauge)["fieldConfig"].(map[string]any)["defaults"].(map[string]any)
	if fc["unit"] != "percentunit" || fc["max"] != 1.0 {
		t.Errorf("gauge field config = %v", fc)
	}
	if b.Panels[2].StatPanel == nil || b.Panels[2].Type != "stat" {
		t.Errorf("stat decoded as %+v", b.Panels[2])
	}
	// The raw panel keeps Grafana's field config, which the SDK's stat type drops.
	var raw struct {
		Panels []struct {
			FieldConfig struct {
				Defaults map[string]any `json:"defaults"`
			} `json:"fieldConfig"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if d := raw.Panels[2].FieldConfig.Defaults; d["unit"] != "none" || d["noValue"] != "0" || d["thresholds"] == nil {
		t.Errorf("stat field config = %v", d)
	}
}

func TestMarshalUnknownType(t *testing.T) {
	d := sample()
	d.Panels[0].Type = "graph"
	if _, err := Marshal(d); err == nil || !strings.Contains(err.Error(), `unknown panel type "graph"`) {
		t.Errorf("err = %v", err)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not json":     `{"panels": [`,
		"bad panel":    `{"panels": [{"type": "timeseries", "targets": "x"}]}`,
		"no grid":      `{"panels": [{"type": "gauge", "title": "g"}]}`,
		"wrong schema": `{"schemaVersion": "new"}`,
	} {
		if _, err := Unmarshal([]byte(in)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// TestMarshalIsGrafanasModel: Grafana's own dashboard model, decoding
// strictly, finds no key it does not have (grafana-tools/sdk writes a
// dozen, such as panels' isNew and span) and none missing.
func TestMarshalIsGrafanasModel(t *testing.T) {
	data, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	if err := grafanamodel.Check(data); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"isNew"`, `"span"`, `"slug"`, `"time_options"`, `"allFormat"`} {
		if strings.Contains(string(data), k) {
			t.Errorf("the dashboard has the SDK-only key %s", k)
		}
	}
}
