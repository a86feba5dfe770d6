package promtest

import (
	"fmt"
	"testing"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

const mergeSpec = `version: redline/v1
service: api
signals:
  - {name: queue, kind: gauge, metric: queue_age_seconds, threshold: 30s}
  - {name: lag, kind: gauge, metric: lag_seconds, threshold: 30s}
triggers:
  - {name: QueueStale, signal: queue, action: page}
  - {name: Lagging, signal: lag, action: page}
alertmanager:
  webhook_url: http://localhost/hook
`

// TestMergeLongKeepsScenariosApart: long groups share their steps only when
// neither asserts on a metric the other writes. A "no data" scenario has no
// series of its own, so it must not run beside one that writes them.
func TestMergeLongKeepsScenariosApart(t *testing.T) {
	s, err := spec.Load("merge.yml", []byte(mergeSpec))
	m := buildModel(t, s, err)
	long := minutes(longGroup)
	group := func(name, series, alert string) Group {
		g := Group{Name: name, Interval: "1m", AlertRuleTests: []AlertTest{{EvalTime: long, Alertname: alert, ExpAlerts: []ExpAlert{}}}}
		if series != "" {
			g.InputSeries = []Series{{Series: series + "{}", Values: "1+0x400"}}
		}
		return g
	}
	groups := []Group{
		group("queue fires", "queue_age_seconds", "QueueStale"),
		group("queue without data", "", "QueueStale"),
		group("lag fires", "lag_seconds", "Lagging"),
		{Name: "short", Interval: "1m", AlertRuleTests: []AlertTest{{EvalTime: "10m", Alertname: "Lagging", ExpAlerts: []ExpAlert{}}}},
	}
	got, err := mergeLong(m, groups)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range got {
		names = append(names, g.Name)
	}
	want := []string{"queue fires; lag fires", "queue without data", "short"}
	if len(names) != len(want) {
		t.Fatalf("groups %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("groups %q, want %q", names, want)
		}
	}
}

// TestMergingKeepsEveryAssertion: merging groups (burn scenarios of
// different SLOs, long groups) only shares evaluation steps; every
// alert_rule_test and promql_expr_test of the unmerged groups is still
// asserted. Both specs have two SLOs whose burst scenarios are merged.
func TestMergingKeepsEveryAssertion(t *testing.T) {
	s, err := spec.LoadFile("../testdata/golden/basic.spec.yml")
	golden := buildModel(t, s, err)
	s, err = spec.Default()
	platform := buildModel(t, s, err)
	for name, m := range map[string]*model.Model{"golden": golden, "platform": platform} {
		t.Run(name, func(t *testing.T) {
			apart, err := generate(m, "x.rules.yml", false)
			if err != nil {
				t.Fatal(err)
			}
			merged, err := generate(m, "x.rules.yml", true)
			if err != nil {
				t.Fatal(err)
			}
			if len(merged.Tests) >= len(apart.Tests) {
				t.Fatalf("%d groups merged into %d: nothing was merged, the test proves nothing", len(apart.Tests), len(merged.Tests))
			}
			want, got := assertions(apart), assertions(merged)
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%d× %s after merging, want %d×", got[k], k, n)
				}
			}
			for k, n := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%d× %s after merging, not in any unmerged group", n, k)
				}
			}
		})
	}
}

// assertions counts every assertion of a test file by what it checks.
func assertions(f *File) map[string]int {
	out := map[string]int{}
	for _, g := range f.Tests {
		for _, a := range g.AlertRuleTests {
			out[fmt.Sprintf("alert %s at %s: %v", a.Alertname, a.EvalTime, a.ExpAlerts)]++
		}
		for _, e := range g.ExprTests {
			out[fmt.Sprintf("expr %s at %s: %v", e.Expr, e.EvalTime, e.ExpSamples)]++
		}
	}
	return out
}
