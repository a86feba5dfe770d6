package promtest

import (
	"testing"

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
