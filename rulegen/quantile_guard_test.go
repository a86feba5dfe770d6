package rulegen_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/internal/testenv"
)

// starvedSpec is the event-loop pattern of the platform spec in small: a
// lag signal counted only while the prober's own timers are on time, and
// an alert on those timers.
const starvedSpec = `version: redline/v1
service: shop
selectors:
  exporter: job="prober"
signals:
  - name: lag
    kind: latency
    histogram: probe_duration_seconds{${exporter}, probe="shop"}
    quantile: 0.95
    threshold: 50ms
    bucket: true
    min_rate: 1
    guard:
      expr: histogram_quantile(0.95, sum by (instance, job, le) (rate(timer_lag_seconds_bucket{${exporter}}[5m]))) <= 0.01
      on: [instance, job]
  - name: timer_lag
    kind: latency
    histogram: timer_lag_seconds{${exporter}}
    quantile: 0.95
    threshold: 10ms
    bucket: true
    min_rate: 1
triggers:
  - name: ShopLoopLag
    signal: lag
    for: 2m
    action: rollback
  - name: ShopProberStarved
    signal: timer_lag
    for: 5m
    action: ticket
alertmanager:
  webhook_url: http://127.0.0.1:9095/hook
`

// TestGeneratedTestsCatchStarvedProber runs the real promtool on what a
// quantile guard generates, then on two broken rule files: without the
// guard the lag alert fires on a starved prober's durations, and with the
// starved alert's bound moved it no longer fires beside the silenced lag
// alert. Both must fail the generated test that holds the same durations
// with a starved prober.
func TestGeneratedTestsCatchStarvedProber(t *testing.T) {
	promtool := testenv.Binary(t, "promtool")
	dir := generatedShop(t, starvedSpec)
	rules := filepath.Join(dir, "rules", "shop.rules.yml")
	tests := filepath.Join(dir, "rules", "shop.test.yml")
	if out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput(); err != nil {
		t.Fatalf("generated tests fail on the generated rules:\n%s", out)
	}
	good, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	const group = "ShopLoopLag: silent while the guard does not hold; ShopProberStarved fires"
	for _, c := range []struct {
		name, old, new string
		count          int
		wantAlert      string
	}{
		{
			name:      "guard removed",
			old:       ` and on(instance, job) (histogram_quantile(0.95, sum by (instance, job, le) (rate(timer_lag_seconds_bucket{job="prober"}[5m]))) <= 0.01)`,
			count:     3, // the bucket, count and good rates
			wantAlert: "ShopLoopLag",
		},
		{
			name:      "starved alert's bound moved",
			old:       "service:timer_lag:p95_rate5m > 0.01",
			new:       "service:timer_lag:p95_rate5m > 0.02",
			count:     1,
			wantAlert: "ShopProberStarved",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			if n := strings.Count(string(good), c.old); n != c.count {
				t.Fatalf("test fixture: %q occurs %d times, want %d, in:\n%s", c.old, n, c.count, good)
			}
			if err := os.WriteFile(rules, []byte(strings.ReplaceAll(string(good), c.old, c.new)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "test", "rules", tests).CombinedOutput()
			if err == nil {
				t.Fatalf("promtool accepted the broken rules:\n%s", out)
			}
			if !strings.Contains(string(out), group) || !strings.Contains(string(out), "alertname: "+c.wantAlert) {
				t.Errorf("failure is not %s in the starved-prober test:\n%s", c.wantAlert, out)
			}
		})
	}
}
