package amconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	amlabels "github.com/prometheus/alertmanager/pkg/labels"
	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// listedAlert is an alert as GET /api/v2/alerts returns it.
type listedAlert struct {
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	Status      struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

// amAPI posts alerts to a real Alertmanager and reads their state back.
type amAPI struct {
	t   *testing.T
	url string
	log func() string
}

func (a amAPI) fire(alerts ...map[string]string) {
	a.t.Helper()
	var body []amAlert
	for _, l := range alerts {
		body = append(body, amAlert{Labels: l, StartsAt: time.Now().Add(-time.Minute), EndsAt: time.Now().Add(time.Hour)})
	}
	data, err := json.Marshal(body)
	if err != nil {
		a.t.Fatal(err)
	}
	resp, err := http.Post(a.url+"/api/v2/alerts", "application/json", bytes.NewReader(data))
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}
}

// reload makes Alertmanager read its configuration file again; the
// endpoint answers once the new configuration is in force.
func (a amAPI) reload() {
	a.t.Helper()
	resp, err := http.Post(a.url+"/-/reload", "", nil)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("POST /-/reload: %s", resp.Status)
	}
}

func (a amAPI) list() []listedAlert {
	a.t.Helper()
	resp, err := http.Get(a.url + "/api/v2/alerts")
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []listedAlert
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		a.t.Fatal(err)
	}
	return got
}

func find(all []listedAlert, labels map[string]string) *listedAlert {
	for i := range all {
		if maps.Equal(all[i].Labels, labels) {
			return &all[i]
		}
	}
	return nil
}

// awaitHeldBack polls until Alertmanager holds the target back because of
// the source: its inhibitor reads new alerts asynchronously. The deadline
// is generous for a loaded CI machine; only a wrong state past it fails.
func (a amAPI) awaitHeldBack(target, source map[string]string) []listedAlert {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		all := a.list()
		if heldBackBy(all, target, source) {
			return all
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%v is not held back by %v after 30s; log:\n%s", target, source, a.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// awaitSuppressed polls until Alertmanager holds the alert back, by
// whichever source.
func (a amAPI) awaitSuppressed(target map[string]string) {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got := find(a.list(), target); got != nil && got.Status.State == "suppressed" {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%v is not held back after 30s; log:\n%s", target, a.log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// heldBackBy says whether the listing shows target inhibited by source.
func heldBackBy(all []listedAlert, target, source map[string]string) bool {
	tg, src := find(all, target), find(all, source)
	return tg != nil && src != nil && tg.Status.State == "suppressed" && slices.Contains(tg.Status.InhibitedBy, src.Fingerprint)
}

// specAlert is one alert of a model as its rule labels it, plus the
// labels its sample carries.
type specAlert struct {
	name   string
	labels map[string]string
}

// alertsOf lists the alerts of a model with the labels Alertmanager would
// receive: the rule's labels, absent()'s, and the canary label's canary
// value on canary alerts (their series are the canary track's).
func alertsOf(m *model.Model) []specAlert {
	var out []specAlert
	for _, a := range m.Alerts {
		l := map[string]string{"alertname": a.Name}
		maps.Copy(l, a.Labels)
		if a.Absent != nil {
			maps.Copy(l, a.Absent.Labels)
		}
		if a.Canary != nil {
			l[a.Canary.Tracks.Label] = a.Canary.Tracks.Canary
		}
		out = append(out, specAlert{a.Name, l})
	}
	return out
}

func matches(t *testing.T, matchers []string, l map[string]string) bool {
	t.Helper()
	for _, s := range matchers {
		mt, err := amlabels.ParseMatcher(s)
		if err != nil {
			t.Fatalf("matcher %q: %v", s, err)
		}
		if !mt.Matches(l[mt.Name]) {
			return false
		}
	}
	return true
}

func with(l map[string]string, kv ...string) map[string]string {
	out := maps.Clone(l)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// TestEveryInhibitRuleInRealAlertmanager loads each generated
// Alertmanager configuration (the platform spec; a spec with canary: and
// slos:) into a real Alertmanager and proves two things by posting alerts
// and reading which it holds back.
//
// What no rule may do, whatever rules there are: hold back an SLO burn
// alert for anything but a more urgent window of the same SLO (the budget
// is never hidden), or let an alert about the canary track hold back one
// about the whole service. Every alert of the spec fires at once.
//
// What each rule must do: for every generated rule, a pair of the spec's
// own alerts it applies to; the target is held back while the source
// fires about the same thing, and is not when one of the compared labels
// names another thing.
func TestEveryInhibitRuleInRealAlertmanager(t *testing.T) {
	def, err := spec.Default()
	if err != nil {
		t.Fatal(err)
	}
	canary, err := spec.LoadFile(filepath.Join("..", "..", "testdata", "golden", "basic.spec.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if canary.Canary == nil || len(canary.SLOs) == 0 {
		t.Fatal("basic.spec.yml lost its canary: or slos: section")
	}
	for name, s := range map[string]*spec.Spec{"platform": def, "canary and slos": canary} {
		t.Run(name, func(t *testing.T) {
			m, err := model.Build(s, "")
			if err != nil {
				t.Fatal(err)
			}
			f, err := Render(m)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "alertmanager.yml")
			if err := os.WriteFile(path, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			var c config
			if err := yaml.Unmarshal(f.Data, &c); err != nil {
				t.Fatal(err)
			}
			am := testenv.NewAlertmanager(t, path)
			api := amAPI{t: t, url: am.URL, log: am.Log}
			alerts := alertsOf(m)
			neverHidden(t, api, c, alerts, m)
			for i, ir := range c.InhibitRules {
				// One rule at a time, so that whatever holds a target back
				// is this rule (alerts fired before stay, under it alone).
				one := c
				one.InhibitRules = []inhibitRule{ir}
				data, err := yaml.Marshal(one)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				api.reload()
				proveRule(t, api, i, ir, alerts)
			}
		})
	}
}

// neverHidden fires every alert of the spec and checks who holds back
// whom. A known pair of rule 0 comes last in the batch, so once its
// target is held back the inhibitor has read every source before it.
func neverHidden(t *testing.T, api amAPI, c config, alerts []specAlert, m *model.Model) {
	t.Helper()
	var batch []map[string]string
	for _, a := range alerts {
		batch = append(batch, a.labels)
	}
	src, tgt, ok := pair(t, c.InhibitRules[0], alerts)
	if !ok {
		t.Fatal("rule 0 applies to no pair of the spec's alerts")
	}
	sentinel := "sentinel"
	tgt, src = with(tgt, "instance", sentinel), with(src, "instance", sentinel)
	batch = append(batch, tgt, src)
	api.fire(batch...)
	all := api.awaitHeldBack(tgt, src)
	byFingerprint := map[string]map[string]string{}
	for _, a := range all {
		byFingerprint[a.Fingerprint] = a.Labels
	}
	track := ""
	if m.Canary != nil {
		track = m.Canary.Label
	}
	slos := 0
	for _, l := range batch {
		got := find(all, l)
		if got == nil {
			t.Errorf("%v: not listed by Alertmanager", l)
			continue
		}
		if l["slo"] != "" {
			slos++
		}
		for _, fp := range got.Status.InhibitedBy {
			by := byFingerprint[fp]
			if l["slo"] != "" && (by["slo"] != l["slo"] || by["severity"] != "critical") {
				t.Errorf("SLO alert %s %v is held back by %s %v: only a critical window of the same SLO may", l["alertname"], l, by["alertname"], by)
			}
			if track != "" && l[track] == "" && by[track] != "" {
				t.Errorf("%s %v is held back by the canary track's %s %v", l["alertname"], l, by["alertname"], by)
			}
		}
	}
	if slos == 0 {
		t.Error("the spec has no SLO alerts: nothing proved about the budget")
	}
}

// pair finds a source and a target among the spec's alerts that rule ir
// applies to: each matches its side and they agree on every compared
// label (a label missing on both counts as equal, as in Alertmanager).
func pair(t *testing.T, ir inhibitRule, alerts []specAlert) (src, tgt map[string]string, ok bool) {
	t.Helper()
	for _, s := range alerts {
		if !matches(t, ir.SourceMatchers, s.labels) {
			continue
		}
		for _, g := range alerts {
			if maps.Equal(s.labels, g.labels) || !matches(t, ir.TargetMatchers, g.labels) {
				continue
			}
			if !slices.ContainsFunc(ir.Equal, func(l string) bool { return s.labels[l] != g.labels[l] }) {
				return s.labels, g.labels, true
			}
		}
	}
	return nil, nil, false
}

// proveRule fires a pair the rule applies to, about one thing, and the
// same target about another thing (one compared label that neither side
// fixes gets another value); the source comes last in the batch. The
// first target must be held back, the second not. Values are unique to
// the rule, so alerts fired for other rules cannot interfere.
func proveRule(t *testing.T, api amAPI, i int, ir inhibitRule, alerts []specAlert) {
	t.Helper()
	src, tgt, ok := pair(t, ir, alerts)
	if !ok {
		t.Errorf("inhibit rule %d (%v → %v) applies to no pair of the spec's alerts", i, ir.SourceMatchers, ir.TargetMatchers)
		return
	}
	free := ""
	for _, l := range ir.Equal {
		if _, set := src[l]; !set && !fixed(ir, l) {
			if _, set := tgt[l]; !set {
				free = l
				break
			}
		}
	}
	if free == "" {
		// The rule compares only labels its alerts fix (service): one
		// source holds back every such target, and the negative case is
		// the policy of neverHidden. The pair still has to work (an equal
		// source fired for an earlier rule may be the one named).
		api.fire(tgt, src)
		api.awaitSuppressed(tgt)
		return
	}
	one := fmt.Sprintf("rule%d-a", i)
	src, same, other := with(src, free, one), with(tgt, free, one), with(tgt, free, fmt.Sprintf("rule%d-b", i))
	api.fire(other, same, src)
	all := api.awaitHeldBack(same, src)
	if got := find(all, other); got == nil || got.Status.State != "active" {
		t.Errorf("inhibit rule %d: %v is held back (%+v) although its %s differs from the source's %v", i, other, got, free, src)
	}
}

// fixed says whether a rule's matchers set label l on both sides.
func fixed(ir inhibitRule, l string) bool {
	return slices.ContainsFunc(ir.SourceMatchers, func(m string) bool { return strings.HasPrefix(m, l+"=") })
}
