// Package grafanamodel checks dashboard JSON against Grafana's own model,
// the types grafana-foundation-sdk generates from Grafana's schema. It is a
// checker for tests, as promtool is for rules: the writer does not link it.
package grafanamodel

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	fdashboard "github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

func init() {
	// The panel kinds and the data source the writer emits, so that panel
	// options and targets are decoded with their own schema too.
	rt := cog.NewRuntime()
	rt.RegisterPanelcfgVariant(timeseries.VariantConfig())
	rt.RegisterPanelcfgVariant(stat.VariantConfig())
	rt.RegisterPanelcfgVariant(gauge.VariantConfig())
	rt.RegisterDataqueryVariant(prometheus.VariantConfig())
}

// Check decodes dashboard JSON into Grafana's own dashboard schema
// (the types grafana-foundation-sdk generates from it): first as Grafana
// reads it, where a value of the wrong type (refresh: false for a number)
// fails the whole dashboard, then strictly, where a required field is
// missing or an unknown key is present.
func Check(data []byte) error {
	//lint:ignore SA1019 the writer emits the classic (v1) dashboard JSON, whose schema this type is; v2 is another format
	var d fdashboard.Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return fmt.Errorf("the dashboard model of Grafana cannot decode it: %w", err)
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("the dashboard model of Grafana: %w", err)
	}
	//lint:ignore SA1019 as above: the classic schema is the one checked
	var strict fdashboard.Dashboard
	err := strict.UnmarshalJSONStrict(data)
	var berrs cog.BuildErrors
	if err != nil && !errors.As(err, &berrs) {
		return fmt.Errorf("the dashboard model of Grafana: %w", err)
	}
	if len(berrs) > 0 {
		return fmt.Errorf("the dashboard model of Grafana (strict): %w", berrs)
	}
	return nil
}
