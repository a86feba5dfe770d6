package lifecycle

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/redline-sre/redline/exporter/collector"
	"github.com/redline-sre/redline/exporter/config"
	"github.com/redline-sre/redline/exporter/web"
)

// The targets here are FAKES (fakeTarget): what a reload keeps, rebuilds
// and closes does not depend on what a target reads.

var fakeDesc = prometheus.NewDesc("fake_value", "A value from a fake target.", nil, nil)

type fakeTarget struct {
	calls  atomic.Int32
	closed atomic.Bool
	value  float64
}

func (f *fakeTarget) Collect(_ context.Context, ch chan<- prometheus.Metric) {
	f.calls.Add(1)
	ch <- prometheus.MustNewConstMetric(fakeDesc, prometheus.GaugeValue, f.value)
}

func (f *fakeTarget) Close() { f.closed.Store(true) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestReload(t *testing.T) {
	var cfg *config.Config
	var loadErr error
	built := map[string]*fakeTarget{}
	builders := Builders{config.KindPgBouncer: func(tc config.Target, _ *slog.Logger) (collector.Target, error) {
		if tc.DSN == "bad" {
			return nil, errors.New("cannot build")
		}
		f := &fakeTarget{value: float64(len(tc.DSN))}
		built[tc.Name+"/"+tc.DSN] = f
		return f, nil
	}}
	set := web.NewTargets(quiet())
	reg := prometheus.NewRegistry()
	r := NewReloader(func() (*config.Config, error) { return cfg, loadErr }, builders, set, reg, quiet())
	var hooked []int
	var hookErr error
	r.Hooks = append(r.Hooks, func(c *config.Config) error {
		if hookErr != nil {
			return hookErr
		}
		hooked = append(hooked, len(c.Probes))
		return nil
	})
	pgb := func(name, dsn string) config.Target {
		return config.Target{Kind: config.KindPgBouncer, Name: name, DSN: dsn, MaxConnections: 2}
	}
	reloaded := func() float64 {
		return testutil.ToFloat64(r.success)
	}

	cfg = &config.Config{PgBouncer: []config.Target{pgb("a", "dsn-a"), pgb("b", "dsn-b")}, Probes: []config.Probe{{Source: "f.yml:9"}}}
	if err := r.Reload(); err != nil || reloaded() != 1 || !r.Ready() {
		t.Fatalf("first load: %v, metric %g", err, reloaded())
	}
	a1, b1 := built["a/dsn-a"], built["b/dsn-b"]

	// a unchanged, b's DSN changed, c new.
	cfg = &config.Config{PgBouncer: []config.Target{pgb("a", "dsn-a"), pgb("b", "dsn-b2"), pgb("c", "dsn-c")}}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(set.Names(), ","); got != "a,b,c" {
		t.Errorf("targets after reload: %s", got)
	}
	if ms, _ := set.Collect(context.Background(), "a"); len(ms) != 1 || a1.calls.Load() != 1 {
		t.Error("unchanged target a was not kept")
	}
	waitFor(t, "old b closed", b1.closed.Load)
	if a1.closed.Load() {
		t.Error("unchanged target a was closed")
	}

	// A failing load and a failing build both keep the running set.
	loadErr = errors.New("f.yml:3: unknown key")
	if err := r.Reload(); err == nil || reloaded() != 0 {
		t.Errorf("failed load: err %v, metric %g", err, reloaded())
	}
	loadErr = nil
	cfg = &config.Config{PgBouncer: []config.Target{pgb("a", "dsn-a"), pgb("d", "bad")}, Postgres: []config.Target{{Kind: config.KindPostgres, Name: "pg", DSN: "x"}}}
	err := r.Reload()
	if err == nil || !strings.Contains(err.Error(), `target "d": cannot build`) || !strings.Contains(err.Error(), `postgres targets are not supported`) {
		t.Errorf("failed build: %v", err)
	}
	if got := strings.Join(set.Names(), ","); got != "a,b,c" || reloaded() != 0 {
		t.Errorf("after failed reloads: targets %s, metric %g", got, reloaded())
	}
	if len(hooked) != 2 || hooked[0] != 1 {
		t.Errorf("hooks ran %v, want once per successful load", hooked)
	}

	// A failing hook (probes that cannot be applied) fails the reload and
	// discards the targets built for it.
	hookErr = errors.New("event-loop probes: bad header")
	cfg = &config.Config{PgBouncer: []config.Target{pgb("a", "dsn-a"), pgb("e", "dsn-e")}}
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "bad header") || reloaded() != 0 {
		t.Errorf("failing hook: err %v, metric %g", err, reloaded())
	}
	if got := strings.Join(set.Names(), ","); got != "a,b,c" {
		t.Errorf("after a failing hook: targets %s", got)
	}
	waitFor(t, "target built for the failed reload closed", built["e/dsn-e"].closed.Load)
	hookErr = nil

	r.CloseAll()
	if !a1.closed.Load() || len(set.Names()) != 0 {
		t.Error("CloseAll left targets open")
	}
	// A reload after shutdown (a late SIGHUP) must not start targets that
	// nothing would close.
	cfg = &config.Config{PgBouncer: []config.Target{pgb("f", "dsn-f")}}
	if err := r.Reload(); err == nil || len(set.Names()) != 0 || built["f/dsn-f"] != nil {
		t.Errorf("reload after CloseAll: err %v, targets %v", err, set.Names())
	}
}

// TestSameTargetComparesEverySetting guards against a setting added to
// config.Target that a reload would not notice.
func TestSameTargetComparesEverySetting(t *testing.T) {
	base := config.Target{Kind: config.KindPostgres, Name: "a", DSN: "x", Databases: []string{"app"}, MaxConnections: 2, ConnectTimeout: time.Second, Source: "f.yml:1"}
	moved := base
	moved.Source = "g.yml:7"
	if !sameTarget(base, moved) {
		t.Error("a target that only moved in the file is rebuilt")
	}
	// Change every field but Source, one at a time, by reflection, so a
	// field added later is covered without editing this test.
	v := reflect.ValueOf(base)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.Name == "Source" {
			continue
		}
		changed := base
		fv := reflect.ValueOf(&changed).Elem().Field(i)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(fv.String() + "-changed")
		case reflect.Int, reflect.Int64:
			fv.SetInt(fv.Int() + 1)
		case reflect.Slice:
			fv.Set(reflect.Append(fv, reflect.ValueOf("other")))
		default:
			t.Fatalf("field %s: kind %s not covered by this test", f.Name, fv.Kind())
		}
		if sameTarget(base, changed) {
			t.Errorf("a change of %s does not rebuild the target", f.Name)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Check reports every target a reload could not build, and closes the
// ones it built.
func TestCheck(t *testing.T) {
	var built []*fakeTarget
	builders := Builders{config.KindPgBouncer: func(tc config.Target, _ *slog.Logger) (collector.Target, error) {
		if tc.DSN == "bad" {
			return nil, errors.New("cannot build")
		}
		f := &fakeTarget{}
		built = append(built, f)
		return f, nil
	}}
	cfg := &config.Config{
		PgBouncer: []config.Target{{Kind: config.KindPgBouncer, Name: "a", DSN: "ok", Source: "f.yml:2:5"}, {Kind: config.KindPgBouncer, Name: "b", DSN: "bad", Source: "f.yml:4:5"}},
		Postgres:  []config.Target{{Kind: config.KindPostgres, Name: "pg", DSN: "x", Source: "f.yml:7:5"}},
	}
	err := Check(cfg, builders)
	for _, want := range []string{`f.yml:4:5: target "b": cannot build`, `f.yml:7:5: target "pg": postgres targets are not supported by this build`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check: %v, want it to say %q", err, want)
		}
	}
	if len(built) != 1 || !built[0].closed.Load() {
		t.Errorf("Check left a built target open")
	}
}
