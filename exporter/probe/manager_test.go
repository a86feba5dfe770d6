package probe

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// cfg is a probe of the test kind; bad fails Prepare.
type cfg struct {
	name, setting string
	bad           bool
}

type fake struct {
	cfg     cfg
	stopped atomic.Bool
}

func (f *fake) Stop() { f.stopped.Store(true) }

// testKind records what the Manager asks of a kind.
func testKind(keep bool) (Kind[cfg, *fake], *[]string) {
	var forgotten []string
	return Kind[cfg, *fake]{
		Noun: "test probe",
		Name: func(c cfg) string { return c.name },
		Prepare: func(c cfg) (cfg, error) {
			if c.bad {
				return c, errors.New(`test probe "` + c.name + `": bad`)
			}
			return c, nil
		},
		Equal:              func(a, b cfg) bool { return a == b },
		Start:              func(c cfg, _ *slog.Logger) *fake { return &fake{cfg: c} },
		Forget:             func(name string) { forgotten = append(forgotten, name) },
		KeepSeriesOnChange: keep,
	}, &forgotten
}

func TestManagerApply(t *testing.T) {
	for _, keep := range []bool{false, true} {
		kind, forgotten := testKind(keep)
		m := NewManager(kind, nil)
		if err := m.Apply([]cfg{{name: "a"}, {name: "b"}}); err != nil {
			t.Fatal(err)
		}
		a, _ := m.Prober("a")
		b, _ := m.Prober("b")

		// Every problem at once, and nothing changes.
		err := m.Apply([]cfg{{name: "a", bad: true}, {name: "c"}, {name: "c"}})
		if err == nil || !strings.Contains(err.Error(), `test probe "a": bad`) || !strings.Contains(err.Error(), `test probe "c": name used twice`) {
			t.Fatalf("bad reload: %v", err)
		}
		if got := m.Names(); !slices.Equal(got, []string{"a", "b"}) || a.stopped.Load() || b.stopped.Load() {
			t.Fatalf("a rejected reload changed the probes: %v", got)
		}

		// a unchanged, b changed, c new.
		if err := m.Apply([]cfg{{name: "a"}, {name: "b", setting: "x"}, {name: "c"}}); err != nil {
			t.Fatal(err)
		}
		if p, _ := m.Prober("a"); p != a || a.stopped.Load() {
			t.Error("an unchanged probe was restarted")
		}
		if p, _ := m.Prober("b"); p == b || !b.stopped.Load() || p.cfg.setting != "x" {
			t.Error("a changed probe was not restarted with its new config")
		}
		want := []string{"b"}
		if keep {
			want = nil
		}
		if !slices.Equal(*forgotten, want) {
			t.Errorf("keep series %v: forgotten after a change %v, want %v", keep, *forgotten, want)
		}

		// Removing forgets whatever KeepSeriesOnChange says.
		*forgotten = nil
		if err := m.Apply([]cfg{{name: "c"}}); err != nil {
			t.Fatal(err)
		}
		if got := m.Names(); !slices.Equal(got, []string{"c"}) || !a.stopped.Load() {
			t.Errorf("after removal: %v", got)
		}
		if slices.Sort(*forgotten); !slices.Equal(*forgotten, []string{"a", "b"}) {
			t.Errorf("forgotten after removal %v, want [a b]", *forgotten)
		}

		c, _ := m.Prober("c")
		m.Stop()
		m.Stop()
		if !c.stopped.Load() || len(m.Names()) != 0 {
			t.Error("Stop left a probe running")
		}
		if err := m.Apply([]cfg{{name: "a"}}); err == nil || err.Error() != "test probe: manager is stopped" {
			t.Errorf("Apply after Stop: %v", err)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		s    Settings
		want string
	}{
		{Settings{URL: "http://x", Interval: 1, Timeout: 1}, ""},
		{Settings{URL: "http://u:s3cret@x:99999/", Interval: 1, Timeout: 1}, "url port 99999 is not between 1 and 65535"},
		{Settings{URL: "u:s3cret@x", Interval: 1, Timeout: 1}, "url must start with http:// or https://"},
		{Settings{URL: "http://u:s3cret@[::1", Interval: 1, Timeout: 1}, "url does not parse"},
		{Settings{URL: "http:///p?token=s3cret", Interval: 1, Timeout: 1}, "url has no host"},
		{Settings{URL: "", Interval: 1, Timeout: 0, MinInterval: 2}, "url is empty\ninterval must be at least 2ns\ntimeout must be positive"},
	} {
		got := ""
		if err := errors.Join(CheckSettings(tc.s)...); err != nil {
			got = err.Error()
		}
		if got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("%+v: got %q, want %q", tc.s, got, tc.want)
		}
	}
	if err := Prefix("p", "n", []error{errors.New("a"), errors.New("b")}); err.Error() != "p \"n\": a\np \"n\": b" {
		t.Errorf("Prefix: %q", err)
	}
	if CheckName("p", "") == nil || CheckName("p", "a\xff") == nil || CheckName("p", "ok") != nil {
		t.Error("CheckName")
	}
	for name, ok := range map[string]bool{"X-Token": true, "": false, "Bad Header": false, "a:b": false} {
		if ValidHeaderName(name) != ok {
			t.Errorf("ValidHeaderName(%q) != %v", name, ok)
		}
	}
}
