package config

import (
	"strings"
	"testing"

	"github.com/redline-sre/redline/internal/yamlstrict/mistakes"
)

// TestSharedMistakes: the exporter's config reports every mistake of the
// table rulegen's spec loader is held to at the same position in the same
// words (rulegen/spec's TestSharedMistakes).
func TestSharedMistakes(t *testing.T) {
	frame := mistakes.Frame{
		List: "probes", Str: "name", Dur: "interval",
		Known: "headers, interval, max_in_flight, name, timeout, url",
		Top:   "headers, pgbouncer, postgres, probes",
	}
	for _, m := range mistakes.Table {
		t.Run(m.Name, func(t *testing.T) {
			data, want := m.Render(frame, "f.yml")
			_, err := Parse("f.yml", data)
			if err == nil {
				t.Fatalf("accepted; want %q", want)
			}
			if !strings.Contains("\n"+err.Error()+"\n", "\n"+want+"\n") {
				t.Errorf("errors lack\n  %q\ngot\n  %s", want, strings.ReplaceAll(err.Error(), "\n", "\n  "))
			}
		})
	}
}
