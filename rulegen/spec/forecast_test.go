package spec

import (
	"strings"
	"testing"
)

func TestForecastErrors(t *testing.T) {
	_, err := LoadFile("testdata/forecast-invalid.yml")
	if err == nil {
		t.Fatal("invalid forecasts loaded")
	}
	want := strings.Join([]string{
		`testdata/forecast-invalid.yml:22:15: triggers[0].forecast: a forecast follows a gauge signal's own value; errors is a ratio signal`,
		`testdata/forecast-invalid.yml:26:16: triggers[1].threshold: a forecast fires on forecast.limit, not on a threshold`,
		`testdata/forecast-invalid.yml:27:37: triggers[1].forecast.within: 30m must be at least an hour longer than the trigger's for (5m)`,
		`testdata/forecast-invalid.yml:27:50: triggers[1].forecast.method: unknown method "linear" (want deriv or predict_linear)`,
		`testdata/forecast-invalid.yml:28:13: triggers[1].action: a forecast predicts a crossing days ahead; it cannot roll a release back (use page or ticket)`,
		`testdata/forecast-invalid.yml:31:15: triggers[2].forecast: a forecast follows a gauge signal's own value (function max, min, avg, sum or max_abs); growth has function deriv`,
		`testdata/forecast-invalid.yml:35:15: triggers[3].forecast: missing key "limit"`,
		`testdata/forecast-invalid.yml:35:24: triggers[3].forecast.within: 40d is longer than the supported maximum of 30d`,
		`testdata/forecast-invalid.yml:35:37: triggers[3].forecast.window: 8d is longer than the supported maximum of 7d`,
	}, "\n")
	if got := err.Error(); got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
}
