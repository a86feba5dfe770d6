package spec

import (
	"reflect"
	"strings"
	"testing"

	"github.com/redline-sre/redline/internal/yamlstrict/mistakes"
)

// TestSharedMistakes: the spec loader reports every mistake of the table
// the exporter's config is held to at the same position in the same words
// (exporter/config's TestSharedMistakes).
func TestSharedMistakes(t *testing.T) {
	frame := mistakes.Frame{
		List: "signals", Str: "name", Dur: "window",
		Known: strings.Join(yamlKeys(reflect.TypeFor[Signal]()), ", "),
		Top:   strings.Join(yamlKeys(reflect.TypeFor[Spec]()), ", "),
	}
	for _, m := range mistakes.Table {
		t.Run(m.Name, func(t *testing.T) {
			data, want := m.Render(frame, "s.yml")
			_, err := Load("s.yml", data)
			if err == nil {
				t.Fatalf("accepted; want %q", want)
			}
			if !strings.Contains("\n"+err.Error()+"\n", "\n"+want+"\n") {
				t.Errorf("errors lack\n  %q\ngot\n  %s", want, strings.ReplaceAll(err.Error(), "\n", "\n  "))
			}
		})
	}
}
