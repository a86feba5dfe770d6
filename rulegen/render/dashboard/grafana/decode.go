package grafana

import (
	"encoding/json"
	"fmt"

	"github.com/grafana-tools/sdk"
)

// Unmarshal decodes dashboard JSON with the SDK (so a dashboard the SDK
// cannot read is an error) and returns it as our types. Panel field config
// and targets are read from the raw panels, because the SDK's stat panel
// drops them.
func Unmarshal(data []byte) (*Dashboard, error) {
	var b sdk.Board
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("decoding with the Grafana SDK: %w", err)
	}
	var top struct {
		Description string            `json:"description"`
		Panels      []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	d := &Dashboard{
		UID:           b.UID,
		Title:         b.Title,
		Description:   top.Description,
		Tags:          b.Tags,
		Editable:      b.Editable,
		From:          b.Time.From,
		SchemaVersion: int(b.SchemaVersion),
	}
	if b.Refresh != nil {
		d.Refresh = b.Refresh.Value
	}
	for _, l := range b.Links {
		var url, tip string
		if l.URL != nil {
			url = *l.URL
		}
		if l.Tooltip != nil {
			tip = *l.Tooltip
		}
		d.Links = append(d.Links, Link{Title: l.Title, URL: url, Tooltip: tip})
	}
	for _, tv := range b.Templating.List {
		q, _ := tv.Query.(string)
		d.Variables = append(d.Variables, Variable{
			Name: tv.Name, Label: tv.Label, Type: tv.Type, Query: q, Multi: tv.Multi, IncludeAll: tv.IncludeAll, AllValue: tv.AllValue,
		})
	}
	for i, sp := range b.Panels {
		var raw struct {
			FieldConfig struct {
				Defaults struct {
					sdk.FieldConfigDefaults
					NoValue string `json:"noValue"`
				} `json:"defaults"`
			} `json:"fieldConfig"`
			Targets []sdk.Target `json:"targets"`
		}
		if err := json.Unmarshal(top.Panels[i], &raw); err != nil {
			return nil, fmt.Errorf("panel %d: %w", i, err)
		}
		def := raw.FieldConfig.Defaults
		p := Panel{
			ID:         int(sp.ID),
			Type:       sp.Type,
			Title:      sp.Title,
			Datasource: datasourceUID(sp.Datasource),
			Unit:       def.Unit,
			Min:        def.Min,
			Max:        def.Max,
			NoValue:    def.NoValue,
		}
		if sp.Description != nil {
			p.Description = *sp.Description
		}
		g := sp.GridPos
		if g.X == nil || g.Y == nil || g.W == nil || g.H == nil {
			return nil, fmt.Errorf("panel %q: incomplete gridPos", sp.Title)
		}
		p.Grid = Grid{X: *g.X, Y: *g.Y, W: *g.W, H: *g.H}
		for _, s := range def.Thresholds.Steps {
			p.Thresholds = append(p.Thresholds, Step{Color: s.Color, Value: s.Value})
		}
		for _, t := range raw.Targets {
			p.Targets = append(p.Targets, Target{RefID: t.RefID, Datasource: datasourceUID(t.Datasource), Expr: t.Expr, Legend: t.LegendFormat})
		}
		d.Panels = append(d.Panels, p)
	}
	return d, nil
}

// datasourceUID returns the uid of a Prometheus data source reference and
// "" for anything else (a missing reference, a name, another plugin).
func datasourceUID(ref any) string {
	m, ok := ref.(map[string]any)
	if !ok || m["type"] != "prometheus" {
		return ""
	}
	uid, _ := m["uid"].(string)
	return uid
}
