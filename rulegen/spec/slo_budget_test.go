package spec

import (
	"strings"
	"testing"
)

const budgetSpec = `version: redline/v1
service: api
signals:
  - name: errors
    kind: ratio
    errors: http_requests_total{code=~"5.."}
    total: http_requests_total
    threshold: 1%
slos:
  - name: availability
    signal: errors
    objective: 99.9%
alertmanager:
  webhook_url: http://localhost/hook
`

func TestBudgetDefaults(t *testing.T) {
	s, err := Load("budget.yml", []byte(budgetSpec))
	if err != nil {
		t.Fatal(err)
	}
	o := s.SLOs[0]
	if !o.Freezes() || o.FreezeBelow.Text != "10%" || o.FreezeBelow.String() != "0.1" || o.FreezeFor.String() != "15m" {
		t.Errorf("freeze defaults: below=%v for=%s, want 10%% (0.1) and 15m", o.FreezeBelow, o.FreezeFor)
	}
	a := s.Alertmanager
	if a.FreezeReceiver != "api-freeze" || a.FreezeWebhookURL != a.WebhookURL {
		t.Errorf("freeze route defaults: receiver %q url %q, want api-freeze and the rollback webhook %q", a.FreezeReceiver, a.FreezeWebhookURL, a.WebhookURL)
	}
	if o.FreezeAlert() != "AvailabilityErrorBudgetFreeze" {
		t.Errorf("freeze alert name %q", o.FreezeAlert())
	}
}

func TestBudgetFreezeOff(t *testing.T) {
	text := strings.Replace(budgetSpec, "    objective:", "    freeze_below: 0%\n    objective:", 1)
	s, err := Load("off.yml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if s.SLOs[0].Freezes() {
		t.Error("freeze_below: 0% still freezes")
	}
}

// budgetErrors are the problems of testdata/invalid-budget.yml, checked
// by TestLoadErrors.
var budgetErrors = strings.Join([]string{
	`testdata/invalid-budget.yml:13:19: slos[0].freeze_below: freeze_below must be below 100% (at 100% releases would never run); 0 turns the freeze off`,
	`testdata/invalid-budget.yml:14:17: slos[0].freeze_for: 2d is longer than the supported maximum of 1d`,
	`testdata/invalid-budget.yml:15:33: slos[0].windows[0].short: short window (1m) is shorter than the window of signal errors (5m), whose recorded rates it reads`,
	`testdata/invalid-budget.yml:19:19: slos[1].freeze_below: 120% is out of range for a ratio (0% to 100%, or 0 to 1)`,
	`testdata/invalid-budget.yml:23:19: slos[2].freeze_below: expected a ratio such as 1% or 0.01, got duration 200ms`,
	`testdata/invalid-budget.yml:26:23: alertmanager.freeze_webhook_url: freeze_webhook_url must be an http or https URL`,
	`testdata/invalid-budget.yml:27:20: alertmanager.freeze_receiver: freeze_receiver must differ from receiver and default_receiver`,
}, "\n")

// TestSLIMissingDefaultsAndNames: no_data_for defaults to 15m, is capped
// at 1d, and the SliMissing alert's name may not be taken by a trigger.
func TestSLIMissingDefaultsAndNames(t *testing.T) {
	s, err := Load("budget.yml", []byte(budgetSpec))
	if err != nil {
		t.Fatal(err)
	}
	if o := s.SLOs[0]; o.NoDataFor.String() != "15m" || o.SLIMissingAlert() != "AvailabilitySliMissing" {
		t.Errorf("no_data_for %s, alert %q; want 15m and AvailabilitySliMissing", o.NoDataFor, o.SLIMissingAlert())
	}
	for _, c := range []struct{ text, want string }{
		{strings.Replace(budgetSpec, "    objective:", "    no_data_for: 2d\n    objective:", 1), "slos[0].no_data_for: 2d is longer than the supported maximum of 1d"},
		{strings.Replace(budgetSpec, "slos:", "triggers:\n  - name: AvailabilitySliMissing\n    signal: errors\n    for: 5m\n    action: page\nslos:", 1), `alert name "AvailabilitySliMissing" of the SLI's no-data alert is taken (by triggers[0])`},
	} {
		_, err := Load("s.yml", []byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
