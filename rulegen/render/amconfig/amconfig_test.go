package amconfig

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// TestMatchedLabelsAreReserved: a spec label fixed on every alert must not
// be one the generated route or inhibit rules match on or compare, or the
// routing silently changes (labels: {slo: x} turned the page inhibit rule,
// which targets slo="", off). Every such label is rejected by the loader.
func TestMatchedLabelsAreReserved(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Render(m)
	if err != nil {
		t.Fatal(err)
	}
	var c config
	if err := yaml.Unmarshal(f.Data, &c); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	matchers := func(ms []string) {
		for _, mt := range ms {
			name, _, ok := strings.Cut(mt, "=")
			if !ok {
				t.Fatalf("matcher %q is not name=value", mt)
			}
			names[strings.TrimRight(name, "!~")] = true
		}
	}
	var routes func(r route)
	routes = func(r route) {
		matchers(r.Matchers)
		for _, g := range r.GroupBy {
			names[g] = true
		}
		for _, sub := range r.Routes {
			routes(sub)
		}
	}
	routes(c.Route)
	for _, ir := range c.InhibitRules {
		matchers(ir.SourceMatchers)
		matchers(ir.TargetMatchers)
		for _, l := range ir.Equal {
			names[l] = true
		}
	}
	if !names["slo"] {
		t.Fatalf("the inhibit rules no longer match on slo; got %v", names)
	}
	for name := range names {
		doc := "version: redline/v1\nservice: api\nlabels: {" + name + ": x}\n" +
			"signals:\n  - {name: queue, kind: gauge, metric: queue_age_seconds, threshold: 30s}\n" +
			"alertmanager: {webhook_url: http://localhost/hook}\n"
		if _, err := spec.Load("spec.yml", []byte(doc)); err == nil || !strings.Contains(err.Error(), "labels."+name+": ") {
			t.Errorf("labels: {%s: x} is accepted (%v), but the generated Alertmanager config matches on %s", name, err, name)
		}
	}
}
