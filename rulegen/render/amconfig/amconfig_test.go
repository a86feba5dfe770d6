package amconfig

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// rendered builds s and decodes the Alertmanager configuration it renders.
func rendered(t *testing.T, s *spec.Spec) config {
	t.Helper()
	m, err := model.Build(s, "")
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
	return c
}

// TestMatchedLabelsAreReserved: a spec label fixed on every alert must not
// be one the generated route or inhibit rules match on or compare, or the
// routing silently changes (labels: {slo: x} turned the page inhibit rule,
// which targets slo="", off). Every such label is rejected by the loader.
func TestMatchedLabelsAreReserved(t *testing.T) {
	s, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	c := rendered(t, s)
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
	var byLabels []string
	for _, sig := range s.Signals {
		byLabels = append(byLabels, sig.By...)
	}
	for name := range names {
		doc := "version: redline/v1\nservice: api\nlabels: {" + name + ": x}\n" +
			"signals:\n  - {name: queue, kind: gauge, metric: queue_age_seconds, threshold: 30s}\n" +
			"alertmanager: {webhook_url: http://localhost/hook}\n"
		keptOrCanary := slices.Contains(byLabels, name) || (s.Canary != nil && name == s.Canary.Label)
		if keptOrCanary && !slices.Contains(spec.IdentityLabels, name) {
			// Compared because a signal of this spec keeps it, or it is
			// this spec's canary label: reserved in this spec, not in one
			// without such a signal or canary.
			doc = strings.Replace(string(spec.DefaultSpec), "labels:\n", "labels:\n  "+name+": x\n", 1)
		}
		if _, err := spec.Load("spec.yml", []byte(doc)); err == nil || !strings.Contains(err.Error(), "labels."+name+": ") {
			t.Errorf("labels: {%s: x} is accepted (%v), but the generated Alertmanager config matches on %s", name, err, name)
		}
	}
}

// The identity rules compare every label a signal keeps in by:, not only
// the built-in ones: a critical alert about one shard must not silence the
// warning about another.
func TestInhibitionsCompareEveryByLabel(t *testing.T) {
	s, err := spec.Load("shard.yml", []byte(`version: redline/v1
service: shop
signals:
  - name: lag
    kind: gauge
    metric: replication_lag_seconds
    by: [shard]
    threshold: 30s
triggers:
  - name: ShardLagging
    signal: lag
    for: 2m
    action: page
  - name: ShardLaggingBadly
    signal: lag
    threshold: 5m
    for: 2m
    action: page
alertmanager:
  webhook_url: http://127.0.0.1:9095/hook
`))
	if err != nil {
		t.Fatal(err)
	}
	c := rendered(t, s)
	if len(c.InhibitRules) < 2 {
		t.Fatalf("%d inhibit rules", len(c.InhibitRules))
	}
	for i, ir := range c.InhibitRules[:2] {
		if !slices.Contains(ir.Equal, "shard") || !slices.Contains(ir.Equal, "instance") {
			t.Errorf("inhibit rule %d compares %v, want shard among the identity labels", i, ir.Equal)
		}
	}
}
