// Package spec defines rulegen's input — one YAML file of signals, rollback
// triggers, SLOs, the Alertmanager route and the dashboard — and loads it
// strictly: every problem is reported with file:line:column and key path.
package spec

import "strings"

// Version is the only spec version this rulegen reads.
const Version = "redline/v1"

// Spec is a service's deploy-safety definition.
type Spec struct {
	Version string `yaml:"version"`
	// Service names the generated files and goes on every alert as service=.
	Service string `yaml:"service"`
	// Labels are added to every alert.
	Labels map[string]string `yaml:"labels"`
	// Selectors are named label matchers, referenced as ${name} in selectors.
	Selectors    map[string]string `yaml:"selectors"`
	Signals      []Signal          `yaml:"signals"`
	Triggers     []Trigger         `yaml:"triggers"`
	SLOs         []SLO             `yaml:"slos"`
	Canary       *Canary           `yaml:"canary"`
	Alertmanager Alertmanager      `yaml:"alertmanager"`
	Dashboard    *Dashboard        `yaml:"dashboard"`

	// File is the name the spec was loaded from, used in errors.
	File string `yaml:"-"`
	pos  map[string]Pos
}

// Signal kinds.
const (
	KindRatio    = "ratio"
	KindLatency  = "latency"
	KindGauge    = "gauge"
	KindRate     = "rate"
	KindBaseline = "baseline"
)

// Signal is one measured quantity with its healthy threshold.
type Signal struct {
	Name        string `yaml:"name"`
	Kind        string `yaml:"kind"`
	Description string `yaml:"description"`
	// Unit decides how values are shown: seconds, ratio, bytes or none (a
	// signal with per adds /s, /min or /h), or per_second, per_minute,
	// per_hour (a plain number per time unit). Defaults follow the kind.
	Unit string `yaml:"unit"`

	// ratio: errors ÷ total, both counter selectors.
	Errors string `yaml:"errors"`
	Total  string `yaml:"total"`

	// latency: a classic histogram (selector on its base name) and a quantile.
	Histogram string    `yaml:"histogram"`
	Quantile  *Quantity `yaml:"quantile"`
	// Bucket says the threshold is one of the histogram's bucket bounds, so
	// compliance is read from that bucket rather than from an interpolated
	// quantile.
	Bucket bool `yaml:"bucket"`

	// gauge: a function over a selector.
	Metric   string   `yaml:"metric"`
	Function string   `yaml:"function"`
	By       []string `yaml:"by"`
	// Guard limits a gauge or latency signal to the series for which
	// another expression holds, e.g. processes older than the window (a
	// process warming up grows its memory without leaking), or probes of an
	// exporter whose own timers are on time.
	Guard *Guard `yaml:"guard"`

	// rate and baseline: a counter selector.
	Counter string `yaml:"counter"`
	// Per is the time unit of rate thresholds: second, minute (default for
	// rate signals) or hour.
	Per string `yaml:"per"`

	// baseline: current rate versus the rate over baseline_window, ending
	// baseline_offset ago (default: where the current window starts).
	BaselineWindow Duration  `yaml:"baseline_window"`
	BaselineOffset Duration  `yaml:"baseline_offset"`
	Tolerance      *Quantity `yaml:"tolerance"`

	// Op is the healthy relation of value to threshold: <=, <, >= or >.
	Op        string    `yaml:"op"`
	Threshold *Quantity `yaml:"threshold"`
	// MinRate is the low-traffic guard in events per second: below it a
	// ratio, latency or baseline signal neither fires nor counts as healthy.
	MinRate *Quantity `yaml:"min_rate"`
	// Window is the rate window of the signal's recording rules (default 5m).
	Window Duration `yaml:"window"`
}

// Guard is an instant-vector expression joined to a gauge or latency
// signal's series with "and on(On...)" before they are aggregated.
type Guard struct {
	Expr string   `yaml:"expr"`
	On   []string `yaml:"on"`
}

// Trigger actions.
const (
	ActionRollback = "rollback"
	ActionPage     = "page"
	ActionTicket   = "ticket"
)

// Trigger is an alert: one signal over its threshold, or all of several.
type Trigger struct {
	// Name is the alert name.
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Signal      string `yaml:"signal"`
	// Threshold overrides the signal's threshold for this trigger.
	Threshold *Quantity     `yaml:"threshold"`
	All       []TriggerPart `yaml:"all"`
	// Absent turns the trigger around: it fires when the series its signal
	// reads are missing, which no threshold can tell from healthy (a
	// renamed metric, a probe under another name).
	Absent   bool              `yaml:"absent"`
	For      Duration          `yaml:"for"`
	Action   string            `yaml:"action"`
	Severity string            `yaml:"severity"`
	Labels   map[string]string `yaml:"labels"`
	// InhibitedBy names the triggers whose alert explains this one: while
	// one of them fires (about the same thing), Alertmanager holds this
	// alert's notifications back, so one outage pages once.
	InhibitedBy []string `yaml:"inhibited_by"`
}

// TriggerPart is one condition of an all: trigger.
type TriggerPart struct {
	Signal    string    `yaml:"signal"`
	Threshold *Quantity `yaml:"threshold"`
}

// SLO is an objective over a ratio signal (or a latency signal whose
// threshold is a bucket bound), alerted on by multi-window burn rates.
type SLO struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Signal      string `yaml:"signal"`
	// Alert is the alert name (default: the name in CamelCase + ErrorBudgetBurn).
	Alert     string       `yaml:"alert"`
	Objective *Quantity    `yaml:"objective"`
	Period    Duration     `yaml:"period"`
	Windows   []BurnWindow `yaml:"windows"`
	// MinRate is the low-traffic guard of every burn window, in requests
	// per second over the window's long range (default: the signal's
	// min_rate; 0 turns it off). At night 1 error in 3 requests burns a
	// 99.9% budget 333 times too fast and proves nothing.
	MinRate *Quantity `yaml:"min_rate"`
	// FreezeBelow is the share of the period's error budget under which
	// releases stop: an alert with freeze="true" goes to the freeze
	// receiver (default 10%; 0 turns it off). Never nil after Load.
	FreezeBelow *Quantity `yaml:"freeze_below"`
	// FreezeFor is how long the remaining budget stays below FreezeBelow
	// before the freeze alert fires (default 15m).
	FreezeFor Duration `yaml:"freeze_for"`
}

// BurnWindow is one row of the multi-window multi-burn-rate table.
type BurnWindow struct {
	Long     Duration  `yaml:"long"`
	Short    Duration  `yaml:"short"`
	Factor   *Quantity `yaml:"factor"`
	Severity string    `yaml:"severity"`
	Action   string    `yaml:"action"`
	For      Duration  `yaml:"for"`
}

// Canary compares a canary track with the baseline track.
type Canary struct {
	Label    string    `yaml:"label"`
	Canary   string    `yaml:"canary"`
	Baseline string    `yaml:"baseline"`
	Factor   *Quantity `yaml:"factor"`
	For      Duration  `yaml:"for"`
}

// Alertmanager describes the rollback route.
type Alertmanager struct {
	WebhookURL      string   `yaml:"webhook_url"`
	Receiver        string   `yaml:"receiver"`
	DefaultReceiver string   `yaml:"default_receiver"`
	GroupWait       Duration `yaml:"group_wait"`
	GroupInterval   Duration `yaml:"group_interval"`
	RepeatInterval  Duration `yaml:"repeat_interval"`
	// FreezeWebhookURL receives the SLOs' release-freeze alerts, which
	// stop releases in CI/CD (default: webhook_url).
	FreezeWebhookURL string `yaml:"freeze_webhook_url"`
	// FreezeReceiver names the freeze receiver (default <service>-freeze).
	FreezeReceiver string `yaml:"freeze_receiver"`
}

// Dashboard is parsed and validated here; it is rendered by the dashboard
// writer.
type Dashboard struct {
	Title  string  `yaml:"title"`
	UID    string  `yaml:"uid"`
	Panels []Panel `yaml:"panels"`
}

// Panel shows a signal, or an expression of its own.
type Panel struct {
	Signal string `yaml:"signal"`
	Title  string `yaml:"title"`
	Expr   string `yaml:"expr"`
	Unit   string `yaml:"unit"`
	// Type is the visualization: timeseries (the default), stat or gauge.
	Type string `yaml:"type"`
	// Description says what good looks like (default: from the signal).
	Description string `yaml:"description"`
	// Threshold is where the panel turns red: it overrides a signal's
	// threshold and gives an expr panel one (healthy at or below it).
	Threshold *Quantity `yaml:"threshold"`
}

// Panel types.
const (
	PanelTimeseries = "timeseries"
	PanelStat       = "stat"
	PanelGauge      = "gauge"
)

// SignalByName returns the named signal, or nil.
func (s *Spec) SignalByName(name string) *Signal {
	for i := range s.Signals {
		if s.Signals[i].Name == name {
			return &s.Signals[i]
		}
	}
	return nil
}

// At returns the position of the value at a key path, or of its nearest
// ancestor that has one.
func (s *Spec) At(path string) Pos {
	for {
		if p, ok := s.pos[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return Pos{}
		}
		path = path[:i]
	}
}
