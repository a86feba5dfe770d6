package grafana

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	fdashboard "github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// legacyKeys are keys grafana-tools/sdk writes that Grafana's current
// model no longer has. Grafana ignores them (and drops them on save); any
// other unknown key is a mistake of ours.
var legacyKeys = map[string]bool{
	"Dashboard: hideControls":        true,
	"Dashboard: originalTitle":       true,
	"Dashboard: rows":                true,
	"Dashboard: sharedCrosshair":     true,
	"Dashboard: slug":                true,
	"Dashboard: style":               true,
	"Panel: editable":                true,
	"Panel: error":                   true,
	"Panel: isNew":                   true,
	"Panel: span":                    true,
	"TimePickerConfig: time_options": true,
	"VariableModel: allFormat":       true,
	"VariableModel: multiFormat":     true,
}

func init() {
	// The panel kinds and the data source the writer emits, so that panel
	// options and targets are decoded with their own schema too.
	rt := cog.NewRuntime()
	rt.RegisterPanelcfgVariant(timeseries.VariantConfig())
	rt.RegisterPanelcfgVariant(stat.VariantConfig())
	rt.RegisterPanelcfgVariant(gauge.VariantConfig())
	rt.RegisterDataqueryVariant(prometheus.VariantConfig())
}

// CheckModel decodes dashboard JSON into Grafana's own dashboard schema
// (the types grafana-foundation-sdk generates from it): first as Grafana
// reads it, where a value of the wrong type (refresh: false for a number)
// fails the whole dashboard, then strictly, where a required field is
// missing or an unknown key is present; the SDK's legacy keys are allowed.
func CheckModel(data []byte) error {
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
	var problems []string
	for _, be := range berrs {
		if legacyKeys[legacyKey(be)] {
			continue
		}
		problems = append(problems, be.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("the dashboard model of Grafana (strict): %s", strings.Join(problems, "; "))
	}
	return nil
}

// legacyKey turns "panels[3].Panel: unexpected field 'isNew'" into
// "Panel: isNew"; other errors give "".
func legacyKey(be *cog.BuildError) string {
	field, ok := strings.CutPrefix(be.Message, "unexpected field '")
	if !ok {
		return ""
	}
	typ := be.Path[strings.LastIndexByte(be.Path, '.')+1:]
	return typ + ": " + strings.TrimSuffix(field, "'")
}
