package testenv

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVMAlertRecordsIntoVictoriaMetrics: VictoriaMetrics scrapes a target,
// vmalert evaluates a recording rule against it and writes the result
// back, and both stop leaving no process or directory behind.
func TestVMAlertRecordsIntoVictoriaMetrics(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE smoke_value gauge\nsmoke_value 21")
	}))
	defer target.Close()
	rules := filepath.Join(t.TempDir(), "rules.yml")
	if err := os.WriteFile(rules, []byte("groups:\n  - name: smoke\n    rules:\n      - record: smoke:doubled\n        expr: smoke_value * 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vm, err := StartVictoriaMetrics(VictoriaMetricsOptions{
		Scrape: []ScrapeTarget{{Job: "smoke", Targets: []string{strings.TrimPrefix(target.URL, "http://")}}},
	})
	if err != nil {
		missing(t, err)
	}
	va, err := StartVMAlert(VMAlertOptions{RuleFiles: []string{rules}, Datasource: vm.URL})
	if err != nil {
		vm.Stop()
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	ok := false
	for time.Now().Before(deadline) && !ok {
		v, found := queryScalar(t, vm.URL, `smoke:doubled{job="smoke"}`)
		ok = found && v == "42"
		time.Sleep(200 * time.Millisecond)
	}
	if !ok {
		t.Errorf("vmalert's recording never reached VictoriaMetrics; logs:\n%s\n%s", vm.Log(), va.Log())
	}
	pids := []int{vm.Pid(), va.Pid()}
	if err := va.Stop(); err != nil {
		t.Error(err)
	}
	if err := vm.Stop(); err != nil {
		t.Error(err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d outlived Stop", pid)
		}
	}
	for _, d := range []string{vm.Dir, va.Dir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s left behind", d)
		}
	}
}
