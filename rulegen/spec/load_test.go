package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadValid(t *testing.T) {
	s, err := LoadFile("testdata/valid-minimal.yml")
	if err != nil {
		t.Fatal(err)
	}
	tr := s.Triggers[0]
	if tr.For.String() != "5m" || tr.Severity != "critical" {
		t.Errorf("trigger defaults: for=%s severity=%s, want 5m critical", tr.For, tr.Severity)
	}
	if got := s.Signals[0].Threshold.String(); got != "0.01" {
		t.Errorf("threshold 1%% = %s, want 0.01", got)
	}
	if s.Alertmanager.Receiver != "api-rollback" || s.Alertmanager.DefaultReceiver != "default" {
		t.Errorf("receiver defaults: %q %q", s.Alertmanager.Receiver, s.Alertmanager.DefaultReceiver)
	}
}

func TestDefaultSpecLoads(t *testing.T) {
	if _, err := Default(); err != nil {
		t.Fatal(err)
	}
}

// TestLoadErrors pins the exact message of every invalid spec in testdata.
func TestLoadErrors(t *testing.T) {
	want := map[string]string{
		// The misspelt key is reported, and so is the key it leaves missing.
		"invalid-unknown-key.yml": strings.Join([]string{
			`testdata/invalid-unknown-key.yml:4:5: signals[0]: missing key "threshold"`,
			`testdata/invalid-unknown-key.yml:8:5: signals[0].treshold: unknown key "treshold"; did you mean "threshold"? (known keys of a ratio signal: description, errors, kind, min_rate, name, op, threshold, total, unit, window)`,
		}, "\n"),
		// Decoding and checking report together: one run shows an unknown
		// key, a bad service name, a quantile of 99 and a missing
		// webhook_url (before, the unknown key hid the other three).
		"invalid-one-run.yml": strings.Join([]string{
			`testdata/invalid-one-run.yml:2:10: service: invalid service name "Checkout Service" (lower case letters, digits, - and _)`,
			`testdata/invalid-one-run.yml:7:15: signals[0].quantile: quantile must be between 0 and 1 (exclusive), got 99`,
			`testdata/invalid-one-run.yml:9:5: signals[0].treshold: unknown key "treshold"; did you mean "threshold"? (known keys of a latency signal: bucket, description, guard, histogram, kind, min_rate, name, op, quantile, threshold, unit, window)`,
			`testdata/invalid-one-run.yml:11:3: alertmanager: missing key "webhook_url"`,
		}, "\n"),
		"invalid-percent-range.yml":  `testdata/invalid-percent-range.yml:8:16: signals[0].threshold: 150% is out of range for a ratio (0% to 100%, or 0 to 1)`,
		"invalid-duration.yml":       `testdata/invalid-duration.yml:12:10: triggers[0].for: invalid duration "5 minutes" (use a number and one of ms, s, m, h, d, w, y)`,
		"invalid-unknown-signal.yml": `testdata/invalid-unknown-signal.yml:13:17: triggers[0].all[1].signal: unknown signal "latency"`,
		"invalid-duplicate-name.yml": `testdata/invalid-duplicate-name.yml:9:11: signals[1].name: duplicate signal name "errors"`,
		"invalid-duplicate-key.yml": strings.Join([]string{
			`testdata/invalid-duplicate-key.yml:3:1: service: duplicate key "service"`,
			`testdata/invalid-duplicate-key.yml:4:10: signals: at least one signal is required`,
		}, "\n"),
		"invalid-promql.yml":            `testdata/invalid-promql.yml:8:13: signals[0].errors: invalid PromQL in "http_requests_total{job=\"api\", status=~\"5..\"": unexpected end of input inside braces`,
		"invalid-unknown-selector.yml":  `testdata/invalid-unknown-selector.yml:6:13: signals[0].errors: unknown selector ${ap} (define it under selectors)`,
		"invalid-wrong-type.yml":        `testdata/invalid-wrong-type.yml:8:16: signals[0].threshold: expected a number, percentage or duration`,
		"invalid-kind-key.yml":          `testdata/invalid-kind-key.yml:7:15: signals[0].quantile: key "quantile" does not apply to a gauge signal`,
		"invalid-latency-threshold.yml": `testdata/invalid-latency-threshold.yml:8:16: signals[0].threshold: a latency threshold is a duration such as 200ms`,
		"invalid-slo.yml": strings.Join([]string{
			`testdata/invalid-slo.yml:10:13: slos[0].signal: signal "lag" is a gauge signal; an SLO needs a ratio signal or a latency signal with bucket: true`,
			`testdata/invalid-slo.yml:11:16: slos[0].objective: 100% is out of range for an objective (above 0% and below 100%)`,
			`testdata/invalid-slo.yml:13:27: slos[0].windows[0].short: short window (1h) must be positive and shorter than the long window (5m)`,
		}, "\n"),
		"invalid-not-selector.yml": `testdata/invalid-not-selector.yml:6:13: signals[0].errors: expected a series selector such as metric{job="x"}, got "sum(rate(http_requests_total{status=~\"5..\"}[5m]))"`,
		"invalid-yaml.yml":         `testdata/invalid-yaml.yml:3:1: invalid YAML: did not find expected '-' indicator`,
		"invalid-budget.yml":       budgetErrors,
		"invalid-missing.yml": strings.Join([]string{
			`testdata/invalid-missing.yml:1:10: version: unsupported version "redline/v2" (want "redline/v1")`,
			`testdata/invalid-missing.yml:3:5: signals[0]: missing key "errors"`,
			`testdata/invalid-missing.yml:10:13: triggers[0].action: unknown action "revert" (want rollback, page or ticket)`,
			`testdata/invalid-missing.yml:11:15: alertmanager: missing key "webhook_url"`,
			`testdata/invalid-missing.yml: service: missing key "service"`,
		}, "\n"),
		"invalid-reserved-label.yml": strings.Join([]string{
			`testdata/invalid-reserved-label.yml:4:13: labels.severity: label "severity" is set by rulegen (reserved: action, alertname, canary, drill, drill_id, freeze, long_window, rollback, service, severity, short_window, signal, slo)`,
			`testdata/invalid-reserved-label.yml:12:16: alertmanager.webhook_url: webhook_url must be an http or https URL`,
		}, "\n"),
		// Labels rulegen sets or the route and inhibit rules match on, and
		// labels the alerts keep from their series, cannot be fixed.
		"invalid-reserved-labels.yml": strings.Join([]string{
			`testdata/invalid-reserved-labels.yml:4:8: labels.slo: label "slo" is set by rulegen (reserved: action, alertname, canary, drill, drill_id, freeze, long_window, rollback, service, severity, short_window, signal, slo)`,
			`testdata/invalid-reserved-labels.yml:5:16: labels.long_window: label "long_window" is set by rulegen (reserved: action, alertname, canary, drill, drill_id, freeze, long_window, rollback, service, severity, short_window, signal, slo)`,
			`testdata/invalid-reserved-labels.yml:6:13: labels.instance: label "instance" comes from the series and tells alerts apart (the inhibit rules compare it); a fixed value would overwrite it`,
			`testdata/invalid-reserved-labels.yml:7:13: labels.__tenant: label names starting with __ are reserved for Prometheus`,
			`testdata/invalid-reserved-labels.yml:8:10: labels.track: label "track" is the canary label; canary alerts take it from the series`,
			`testdata/invalid-reserved-labels.yml:9:9: labels.pool: label "pool" is kept from the series by signal "waiting" (by); a fixed value would overwrite it`,
			`testdata/invalid-reserved-labels.yml:25:28: triggers[0].labels.short_window: label "short_window" is set by rulegen (reserved: action, alertname, canary, drill, drill_id, freeze, long_window, rollback, service, severity, short_window, signal, slo)`,
			`testdata/invalid-reserved-labels.yml:25:43: triggers[0].labels.alertname: label "alertname" is set by rulegen (reserved: action, alertname, canary, drill, drill_id, freeze, long_window, rollback, service, severity, short_window, signal, slo)`,
			`testdata/invalid-reserved-labels.yml:25:58: triggers[0].labels.target: label "target" comes from the series and tells alerts apart (the inhibit rules compare it); a fixed value would overwrite it`,
			`testdata/invalid-reserved-labels.yml:29:20: triggers[1].labels.pool: label "pool" is kept from the series by signal "waiting" (by); a fixed value would overwrite it`,
		}, "\n"),
		"invalid-absent.yml": strings.Join([]string{
			`testdata/invalid-absent.yml:17:16: triggers[0].threshold: an absent trigger fires on missing series; it has no threshold`,
			`testdata/invalid-absent.yml:23:13: triggers[1].absent: absent applies to one signal, not to all:`,
		}, "\n"),
		// inhibited_by names other triggers, once, without a ring, and
		// never holds back a rollback or an SLO burn alert.
		"invalid-inhibit.yml": strings.Join([]string{
			`testdata/invalid-inhibit.yml:17:19: triggers[0].inhibited_by: a rollback trigger cannot be inhibited: holding back ErrorsHigh would leave running a release the spec says to roll back`,
			`testdata/invalid-inhibit.yml:21:20: triggers[1].inhibited_by[0]: trigger QueueStuck cannot inhibit itself`,
			`testdata/invalid-inhibit.yml:21:46: triggers[1].inhibited_by[2]: trigger "QueueMissing" is listed twice`,
			`testdata/invalid-inhibit.yml:21:60: triggers[1].inhibited_by[3]: unknown trigger "Typo"`,
			`testdata/invalid-inhibit.yml:21:66: triggers[1].inhibited_by[4]: "ApiAvailabilityErrorBudgetBurn" is an SLO burn alert; inhibited_by names triggers of this spec`,
			`testdata/invalid-inhibit.yml:26:20: triggers[2].inhibited_by[0]: inhibited_by forms a cycle (QueueStuck ← QueueMissing ← QueueStuck): while all of them fire, each would hide the other and none would page`,
		}, "\n"),
		"invalid-template.yml": strings.Join([]string{
			`testdata/invalid-template.yml:4:9: labels.team: must be plain text: {{ and }} are template delimiters in Prometheus alerts`,
			`testdata/invalid-template.yml:8:18: signals[0].description: must be plain text: {{ and }} are template delimiters in Prometheus alerts`,
		}, "\n"),
		"invalid-guard.yml": strings.Join([]string{
			`testdata/invalid-guard.yml:12:13: signals[0].guard.expr: invalid PromQL in "time() - process_start_time_seconds{job=\"api\" > 1800": unexpected character inside braces: '>'`,
			`testdata/invalid-guard.yml:13:22: signals[0].guard.on[1]: invalid label name "job-name"`,
			`testdata/invalid-guard.yml:19:7: signals[1].guard: missing key "on" (the labels that join the guard to the signal's series)`,
			`testdata/invalid-guard.yml:19:13: signals[1].guard.expr: a guard must select series; "vector(1)" has no series selector`,
			`testdata/invalid-guard.yml:26:13: signals[2].guard.expr: a guard is an instant-vector expression such as time() - process_start_time_seconds > 1800, got a matrix "process_start_time_seconds[5m]"`,
			`testdata/invalid-guard.yml:34:7: signals[3].guard: guard does not apply to function mean`,
		}, "\n"),
		"invalid-baseline.yml": strings.Join([]string{
			`testdata/invalid-baseline.yml:9:22: signals[0].baseline_offset: baseline_offset (10m) must be at least window (15m): a shorter offset overlaps the current window`,
			`testdata/invalid-baseline.yml:16:22: signals[1].baseline_offset: key "baseline_offset" does not apply to a ratio signal`,
			`testdata/invalid-baseline.yml:21:22: signals[2].baseline_offset: 8d is longer than the supported maximum of 7d`,
			`testdata/invalid-baseline.yml:27:15: slos[0].min_rate: min_rate must not be negative`,
		}, "\n"),
		"invalid-dashboard.yml": strings.Join([]string{
			`testdata/invalid-dashboard.yml:14:15: dashboard.panels[0].signal: unknown signal "latency"`,
			`testdata/invalid-dashboard.yml:15:7: dashboard.panels[1]: missing key "title" (a panel with expr needs a title)`,
		}, "\n"),
	}
	files, err := filepath.Glob("testdata/invalid-*.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := want[filepath.Base(f)]; !ok {
			t.Errorf("%s has no expected error in this table", f)
		}
	}
	for name, msg := range want {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(path, data)
			if err == nil {
				t.Fatal("loaded without error")
			}
			if err.Error() != msg {
				t.Errorf("error:\n%s\nwant:\n%s", err, msg)
			}
		})
	}
}

func TestQuantityExact(t *testing.T) {
	for in, want := range map[string]string{
		"99.9%": "0.999", "1%": "0.01", "200ms": "0.2", "30s": "30", "1e-3": "0.001", "14.4": "14.4", "0.5": "0.5",
	} {
		q, err := ParseQuantity(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if q.String() != want {
			t.Errorf("%s = %s, want %s", in, q, want)
		}
	}
	for _, in := range []string{"", "%", "1/3", "NaN", "Inf", "0x10", "1e400", "5 minutes", "-"} {
		if _, err := ParseQuantity(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}
