package model

import (
	"maps"
	"testing"
)

// TestAbsentLabels follows PromQL's absent(): the first equality matcher of
// a name sets the label, any later matcher on it removes it, an empty value
// sets none. The cases were checked with promtool 2.42's absent().
func TestAbsentLabels(t *testing.T) {
	for sel, want := range map[string]map[string]string{
		`m`:                                   {},
		`m{job="a", probe="b"}`:               {"job": "a", "probe": "b"},
		`m{job="a", status=~"5.."}`:           {"job": "a"},
		`m{job="a", job!="b"}`:                {},
		`m{job="a", job="a", probe="b"}`:      {"probe": "b"},
		`m{job="", probe="b"}`:                {"probe": "b"},
		`m{job=~"a", job="a", probe!="b"}`:    {"job": "a"},
		`{__name__="m", job="a", env="prod"}`: {"job": "a", "env": "prod"},
	} {
		vs, err := parseSelector(sel)
		if err != nil {
			t.Fatal(err)
		}
		if got := absentLabels(vs); !maps.Equal(got, want) {
			t.Errorf("absent(%s) labels %v, want %v", sel, got, want)
		}
	}
}
