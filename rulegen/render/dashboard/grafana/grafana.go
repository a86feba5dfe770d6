// Package grafana is the one place that speaks Grafana's dashboard JSON.
// It wraps github.com/grafana-tools/sdk behind small types of our own, so
// the library can be swapped without touching the dashboard writer, and
// fills the SDK's gaps: it has no gauge panel, its stat panel has no field
// config, and it leaves schemaVersion at 0.
package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/grafana-tools/sdk"
)

// SchemaVersion is the classic dashboard schema version current Grafana
// writes: @grafana/schema's defaultDashboard has 42 from 12.2 through 13.2
// (41 in 11.6 and 12.0). The step from 41 only touches overrides that hide
// series, which these dashboards have none of, so Grafana 11 reads them as
// they are.
const SchemaVersion = 42

// DatasourceVariable names the template variable every panel and target
// reads its Prometheus data source from.
const DatasourceVariable = "datasource"

// Panel types the writer emits.
const (
	TypeTimeseries = "timeseries"
	TypeStat       = "stat"
	TypeGauge      = "gauge"
)

// Dashboard is a classic Grafana dashboard.
type Dashboard struct {
	UID   string
	Title string
	// Description is shown in the dashboard settings; the writer puts its
	// "generated, do not edit" note here because JSON has no comments.
	Description string
	Tags        []string
	// Editable is read back from JSON only: the writer always writes
	// false, because edits to a generated dashboard are lost.
	Editable bool
	// From is the start of the default time range (e.g. now-6h).
	From string
	// Refresh is the auto-refresh interval (e.g. 30s).
	Refresh       string
	SchemaVersion int
	Variables     []Variable
	Panels        []Panel
	// Links lead to related dashboards, keeping the time range and the
	// variables.
	Links []Link
}

// Link is a dashboard link to a Grafana URL such as /d/<uid>.
type Link struct {
	Title, URL, Tooltip string
}

// Variable is a template variable: a data-source picker or a custom list.
type Variable struct {
	Name  string
	Label string
	// Type is "datasource" (Query is the plugin id, e.g. prometheus) or
	// "custom" (Query is the comma-separated list of values).
	Type       string
	Query      string
	Multi      bool
	IncludeAll bool
	// AllValue is what "All" stands for in a query; empty lets Grafana
	// join every listed value, which drops series without the label.
	AllValue string
}

// Panel is one visualization.
type Panel struct {
	ID          int
	Type        string
	Title       string
	Description string
	// Datasource is the uid of the panel's data source, e.g. ${datasource}.
	Datasource string
	Unit       string
	Min, Max   *float64
	Thresholds []Step
	// NoValue is shown when the query returns no series.
	NoValue string
	Grid    Grid
	Targets []Target
}

// Step is one threshold step: from Value (nil is "from -∞") on, Color.
type Step struct {
	Color string
	Value *float64
}

// Grid is a panel's position on Grafana's 24-column grid.
type Grid struct{ X, Y, W, H int }

// Target is one Prometheus query of a panel.
type Target struct {
	RefID      string
	Datasource string
	Expr       string
	Legend     string
}

func datasourceRef(uid string) map[string]string {
	return map[string]string{"type": "prometheus", "uid": uid}
}

// Marshal encodes a dashboard as indented JSON. encoding/json keeps struct
// field order and sorts map keys, so equal dashboards give equal bytes.
func Marshal(d *Dashboard) ([]byte, error) {
	b := sdk.Board{
		UID:      d.UID,
		Title:    d.Title,
		Tags:     d.Tags,
		Timezone: "browser",
		// Generated: an edit in Grafana is lost at the next provisioning,
		// so the dashboard says so by not offering one.
		Editable:      false,
		SchemaVersion: uint(d.SchemaVersion),
		Time:          sdk.Time{From: d.From, To: "now"},
		Timepicker: sdk.Timepicker{
			RefreshIntervals: []string{"10s", "30s", "1m", "5m", "15m", "30m", "1h"},
			TimeOptions:      []string{},
		},
		Refresh: &sdk.BoolString{Flag: true, Value: d.Refresh},
		// Shared crosshair: the moment a signal turns red lines up across
		// every panel.
		GraphTooltip: 1,
		Links:        []sdk.Link{},
	}
	for _, l := range d.Links {
		b.Links = append(b.Links, sdkLink(l))
	}
	b.Annotations.List = []sdk.Annotation{}
	b.Templating.List = []sdk.TemplateVar{}
	for _, v := range d.Variables {
		b.Templating.List = append(b.Templating.List, templateVar(v))
	}
	for i := range d.Panels {
		p, err := panel(&d.Panels[i])
		if err != nil {
			return nil, err
		}
		b.Panels = append(b.Panels, p)
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	if raw, err = dropSDKOnlyKeys(raw); err != nil {
		return nil, err
	}
	// sdk.Link drops an empty tags list (omitempty), which Grafana's
	// dashboard model requires: each link's own encoding, found verbatim in
	// the board's, gets it back.
	for _, l := range b.Links {
		lj, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		if len(l.Tags) == 0 {
			fixed := append(append([]byte{}, lj[:len(lj)-1]...), []byte(`,"tags":[]}`)...)
			raw = bytes.Replace(raw, lj, fixed, 1)
		}
	}
	// sdk.Board has no description field; Grafana reads one at the top
	// level, so it is spliced in as the first key.
	desc, err := json.Marshal(d.Description)
	if err != nil {
		return nil, err
	}
	var withDesc bytes.Buffer
	withDesc.WriteString(`{"description":`)
	withDesc.Write(desc)
	withDesc.WriteByte(',')
	withDesc.Write(raw[1:])
	var out bytes.Buffer
	if err := json.Indent(&out, withDesc.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func sdkLink(l Link) sdk.Link {
	yes, no := true, false
	icon := "dashboard"
	return sdk.Link{
		Title: l.Title, Type: "link", URL: &l.URL, Tooltip: &l.Tooltip, Icon: &icon,
		IncludeVars: true, KeepTime: &yes, TargetBlank: &no, AsDropdown: &no, Tags: []string{},
	}
}

func templateVar(v Variable) sdk.TemplateVar {
	tv := sdk.TemplateVar{
		Name:       v.Name,
		Label:      v.Label,
		Type:       v.Type,
		Query:      v.Query,
		Multi:      v.Multi,
		IncludeAll: v.IncludeAll,
		AllValue:   v.AllValue,
		Options:    []sdk.Option{},
	}
	// Grafana's model has refresh as a number (0 never, 1 on load); the
	// SDK writes its zero value as false, which Grafana cannot decode.
	never, onLoad := int64(0), int64(1)
	tv.Refresh = sdk.BoolInt{Value: &never}
	switch v.Type {
	case "datasource":
		// Refresh on load, so the picker lists this Grafana's sources.
		tv.Refresh = sdk.BoolInt{Value: &onLoad}
		tv.Current = sdk.Current{Text: &sdk.StringSliceString{Value: []string{"default"}, Valid: true}, Value: "default"}
	case "custom":
		if v.IncludeAll {
			tv.Current = sdk.Current{Text: &sdk.StringSliceString{Value: []string{"All"}, Valid: true}, Value: []string{"$__all"}}
		}
	}
	return tv
}

func intp(i int) *int { return &i }

func panel(p *Panel) (*sdk.Panel, error) {
	common := sdk.CommonPanel{
		Datasource: datasourceRef(p.Datasource),
		ID:         uint(p.ID),
		Title:      p.Title,
		Type:       p.Type,
	}
	if p.Description != "" {
		common.Description = &p.Description
	}
	common.GridPos.X, common.GridPos.Y = intp(p.Grid.X), intp(p.Grid.Y)
	common.GridPos.W, common.GridPos.H = intp(p.Grid.W), intp(p.Grid.H)

	var targets []sdk.Target
	for _, t := range p.Targets {
		targets = append(targets, sdk.Target{
			RefID:        t.RefID,
			Datasource:   datasourceRef(t.Datasource),
			Expr:         t.Expr,
			LegendFormat: t.Legend,
		})
	}
	thresholds := sdk.Thresholds{Mode: "absolute"}
	for _, s := range p.Thresholds {
		thresholds.Steps = append(thresholds.Steps, sdk.ThresholdStep{Color: s.Color, Value: s.Value})
	}

	// The SDK's timeseries and stat panels lack options current Grafana's
	// model requires, and it has no gauge: all three go out as custom
	// panels carrying the typed options of options.go.
	common.OfType = sdk.CustomType
	defaults := fieldDefaults{Unit: p.Unit, Thresholds: thresholds, Min: p.Min, Max: p.Max, NoValue: p.NoValue}
	reduce := reduceOptions{Calcs: []string{"lastNotNull"}}
	var options any
	switch p.Type {
	case TypeTimeseries:
		style := timeseriesStyle()
		defaults.Color, defaults.Custom = colorMode{"palette-classic"}, &style
		options = timeseriesOptions{
			Legend:  legendOptions{Calcs: []string{"lastNotNull", "max"}, DisplayMode: "table", Placement: "bottom", ShowLegend: true},
			Tooltip: tooltipOptions{Mode: "multi", Sort: "none"},
		}
	case TypeStat:
		defaults.Color = colorMode{"thresholds"}
		options = statOptions{
			ReduceOptions: reduce, ColorMode: "background", GraphMode: "none", JustifyMode: "auto", Orientation: "auto",
			TextMode: "value_and_name", WideLayout: true, PercentChangeColorMode: "standard",
		}
	case TypeGauge:
		defaults.Color = colorMode{"thresholds"}
		options = gaugeOptions{
			ReduceOptions: reduce, Orientation: "auto", ShowThresholdMarkers: true, Sizing: "auto",
			MinVizHeight: 75, MinVizWidth: 75,
		}
	default:
		return nil, fmt.Errorf("panel %q: unknown panel type %q (want %s, %s or %s)", p.Title, p.Type, TypeTimeseries, TypeStat, TypeGauge)
	}
	// The SDK's hook for a panel type it does not model is a map of the
	// panel's own keys; the values are typed.
	custom := sdk.CustomPanel{
		"targets":     targets,
		"fieldConfig": fieldConfig{Defaults: defaults, Overrides: []struct{}{}},
		"options":     options,
	}
	return &sdk.Panel{CommonPanel: common, CustomPanel: &custom}, nil
}

// timeseriesStyle draws lines with the thresholds as a line and a shaded
// area, so "over the threshold" is visible without reading the axis.
func timeseriesStyle() sdk.FieldConfigCustom {
	c := sdk.FieldConfigCustom{
		AxisPlacement:     "auto",
		DrawStyle:         "line",
		FillOpacity:       10,
		GradientMode:      "none",
		LineInterpolation: "linear",
		LineWidth:         1,
		PointSize:         4,
		ShowPoints:        "never",
	}
	c.LineStyle.Fill = "solid"
	c.ScaleDistribution.Type = "linear"
	c.Stacking.Mode = "none"
	c.Stacking.Group = "A"
	c.ThresholdsStyle.Mode = "line+area"
	return c
}
