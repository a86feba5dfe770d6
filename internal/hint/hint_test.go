package hint

import "testing"

func TestClosest(t *testing.T) {
	known := []string{"threshold", "quantile", "histogram", "min_rate", "window"}
	for key, want := range map[string]string{
		"treshold": "threshold", "thresold": "threshold", "Threshold": "threshold", "histogramm": "histogram",
		"minrate": "min_rate", "windw": "window", "color": "", "x": "", "max_rate": "min_rate",
	} {
		if got := Closest(key, known); got != want {
			t.Errorf("Closest(%q) = %q, want %q", key, got, want)
		}
	}
}
