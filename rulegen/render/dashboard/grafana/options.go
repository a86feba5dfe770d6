package grafana

import "github.com/grafana-tools/sdk"

// The panel JSON grafana-tools/sdk lacks: its timeseries and stat panels
// miss options current Grafana's model has, and it has no gauge. These
// types carry it, typed; a panel goes out as the SDK's custom panel with
// them as its targets, fieldConfig and options. Fields are in key order,
// as encoding/json wrote the maps they replace, so the bytes are the same.

// fieldConfig is a panel's fieldConfig: the defaults, no overrides.
type fieldConfig struct {
	Defaults  fieldDefaults `json:"defaults"`
	Overrides []struct{}    `json:"overrides"`
}

// fieldDefaults is fieldConfig.defaults.
type fieldDefaults struct {
	Color      colorMode              `json:"color"`
	Custom     *sdk.FieldConfigCustom `json:"custom,omitempty"` // timeseries only
	Max        *float64               `json:"max,omitempty"`
	Min        *float64               `json:"min,omitempty"`
	NoValue    string                 `json:"noValue,omitempty"`
	Thresholds sdk.Thresholds         `json:"thresholds"`
	Unit       string                 `json:"unit"`
}

type colorMode struct {
	Mode string `json:"mode"`
}

// reduceOptions is how stat and gauge panels reduce a series to a value.
type reduceOptions struct {
	Calcs  []string `json:"calcs"`
	Fields string   `json:"fields"`
	Values bool     `json:"values"`
}

// timeseriesOptions is a timeseries panel's options.
type timeseriesOptions struct {
	Legend  legendOptions  `json:"legend"`
	Tooltip tooltipOptions `json:"tooltip"`
}

type legendOptions struct {
	Calcs       []string `json:"calcs"`
	DisplayMode string   `json:"displayMode"`
	Placement   string   `json:"placement"`
	ShowLegend  bool     `json:"showLegend"`
}

type tooltipOptions struct {
	Mode string `json:"mode"`
	Sort string `json:"sort"`
}

// statOptions is a stat panel's options.
type statOptions struct {
	ColorMode              string        `json:"colorMode"`
	GraphMode              string        `json:"graphMode"`
	JustifyMode            string        `json:"justifyMode"`
	Orientation            string        `json:"orientation"`
	PercentChangeColorMode string        `json:"percentChangeColorMode"`
	ReduceOptions          reduceOptions `json:"reduceOptions"`
	ShowPercentChange      bool          `json:"showPercentChange"`
	TextMode               string        `json:"textMode"`
	WideLayout             bool          `json:"wideLayout"`
}

// gaugeOptions is a gauge panel's options.
type gaugeOptions struct {
	MinVizHeight         int           `json:"minVizHeight"`
	MinVizWidth          int           `json:"minVizWidth"`
	Orientation          string        `json:"orientation"`
	ReduceOptions        reduceOptions `json:"reduceOptions"`
	ShowThresholdLabels  bool          `json:"showThresholdLabels"`
	ShowThresholdMarkers bool          `json:"showThresholdMarkers"`
	Sizing               string        `json:"sizing"`
}
