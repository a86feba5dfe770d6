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
	// Outputs enables the manifests for other engines.
	Outputs *Outputs `yaml:"outputs"`
	// Preflight lists the checks `rulegen preflight` runs besides those
	// it derives (preflight.go).
	Preflight []PreflightCheck `yaml:"preflight"`

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
	// Present (gauge, rate, baseline) is a selector whose series exist whenever
	// the signal's source is up, for a metric that has no series while all
	// is well: one series per anomaly (a sequence behind its column), or a
	// counter the application creates on its first event. While it has
	// series and the signal has none, the canary engines' check reads 0
	// rather than nothing (a guard that keeps no series reads 0 too).
	Present string `yaml:"present"`

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
	// Forecast turns the trigger into a prediction: it fires while the
	// signal's trend reaches a limit within a stated time (forecast.go).
	Forecast *Forecast `yaml:"forecast"`
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
	// NoDataFor is how long the SLI may have no total series, or traffic
	// below min_rate, while its target is up before the SLO's SliMissing
	// alert fires (default 15m): without data the burn alerts are silent,
	// which would read as a met SLO.
	NoDataFor Duration `yaml:"no_data_for"`
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
	// Steps, StepDuration and Selectors are the stage ladder of a rollout
	// and the series it scopes to the canary (ladder.go).
	Steps        []Quantity `yaml:"steps"`
	StepDuration Duration   `yaml:"step_duration"`
	Selectors    []string   `yaml:"selectors"`
	// Judge is how `rulegen judge` compares the tracks statistically
	// (judge.go); nil judges every compared signal with the defaults.
	Judge *Judge `yaml:"judge"`
}

// Outputs enables the files rulegen writes for the engines teams run beside
// Prometheus: prometheus-operator, Argo Rollouts, Flagger and a Mimir or
// Cortex ruler. Each is written only when its key is present.
type Outputs struct {
	// Dir is where the Kubernetes manifests go, relative to the output
	// directory (default kubernetes).
	Dir            string                `yaml:"dir"`
	PrometheusRule *PrometheusRuleOutput `yaml:"prometheus_rule"`
	ArgoRollouts   *ArgoRolloutsOutput   `yaml:"argo_rollouts"`
	Flagger        *FlaggerOutput        `yaml:"flagger"`
	Mimir          *MimirOutput          `yaml:"mimir"`
	// Gate, when set, makes the engines' configs ask `rulegen serve` (the
	// release gate) for each stage's verdict, beside the threshold checks.
	Gate *GateOutput `yaml:"gate"`
}

// GateOutput is where the engines reach `rulegen serve`.
type GateOutput struct {
	// URL is the gate's base URL as the engines' controllers reach it,
	// e.g. http://redline-gate.monitoring:9460.
	URL string `yaml:"url"`
}

// PrometheusRuleOutput is the prometheus-operator resource carrying the
// rule file. Labels must match the Prometheus resource's ruleSelector, or
// the operator never loads the rules.
type PrometheusRuleOutput struct {
	Name      string            `yaml:"name"`
	Namespace string            `yaml:"namespace"`
	Labels    map[string]string `yaml:"labels"`
}

// ArgoRolloutsOutput is an AnalysisTemplate (or ClusterAnalysisTemplate)
// with a metric per rollback trigger and canary comparison, and a Rollout
// patch with the stage ladder.
type ArgoRolloutsOutput struct {
	Name string `yaml:"name"`
	// Namespace of the AnalysisTemplate; empty with cluster_scope.
	Namespace    string `yaml:"namespace"`
	ClusterScope bool   `yaml:"cluster_scope"`
	// Rollout names the Rollout the patch applies to (default: the service).
	Rollout string `yaml:"rollout"`
	// Prometheus is the address Argo Rollouts queries.
	Prometheus string `yaml:"prometheus"`
	// Interval between measurements (default 1m).
	Interval Duration `yaml:"interval"`
	// Count of measurements; unset, the background analysis runs until
	// the rollout is promoted.
	Count *Quantity `yaml:"count"`
	// FailureLimit overrides each metric's limit, which by default lets a
	// condition break for as long as its trigger's for: allows.
	FailureLimit *Quantity `yaml:"failure_limit"`
	// InconclusiveLimit is how many unknown measurements (no traffic, NaN)
	// a metric may have before the rollout pauses for a human (default:
	// one stage's worth).
	InconclusiveLimit *Quantity `yaml:"inconclusive_limit"`
}

// FlaggerOutput is a MetricTemplate per rollback trigger and canary
// comparison, and a Canary patch with the analysis.
type FlaggerOutput struct {
	Namespace string `yaml:"namespace"`
	// Canary names the Canary the patch applies to (default: the service).
	Canary     string   `yaml:"canary"`
	Prometheus string   `yaml:"prometheus"`
	Interval   Duration `yaml:"interval"`
	// Threshold is the number of failed checks before Flagger rolls back
	// (default 5).
	Threshold *Quantity `yaml:"threshold"`
	// Label is the pod label Flagger's selector uses: the canary's pods
	// carry the target's name, the primary's the name with -primary
	// (default app).
	Label string `yaml:"label"`
	// RollbackHook, when set, is added as the analysis' rollback webhook.
	RollbackHook string `yaml:"rollback_hook"`
}

// MimirOutput is the rule file as a Mimir or Cortex ruler namespace.
type MimirOutput struct {
	Namespace string `yaml:"namespace"`
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

// Has reports whether the spec file wrote a key path.
func (s *Spec) Has(path string) bool {
	_, ok := s.pos[path]
	return ok
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

// PreflightCheck is one check of the spec's preflight: section, run by
// `rulegen preflight` beside the checks it derives from the signals,
// triggers and SLOs. It is a PromQL expression with its healthy
// condition, an HTTP request with the answer it must get, or — with
// signal — what no data means for one derived signal check.
type PreflightCheck struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Required false makes a failing check a warning, not a NO-GO
	// (default true).
	Required *bool `yaml:"required"`

	// Expr is an instant-vector (or scalar) PromQL expression; every
	// sample it returns must satisfy Op Threshold.
	Expr      string    `yaml:"expr"`
	Op        string    `yaml:"op"`
	Threshold *Quantity `yaml:"threshold"`
	// NoData says what an empty result means: unknown (the default, which
	// is not GO) or go, for an expression whose empty result means healthy
	// by construction (ALERTS{…}, a "> 0" filter).
	NoData string `yaml:"no_data"`

	HTTP *HTTPCheck `yaml:"http"`

	// Signal names a signal whose derived check this entry changes, with
	// a description saying why: no_data: go for a source that has no
	// series when healthy (one series per anomaly, such as
	// pg_sequence_behind_column), required: false for a signal that may be
	// unjudgeable (a baseline without history) — then it and the triggers
	// it leaves unjudged are warnings.
	Signal string `yaml:"signal"`
}

// HTTPCheck is a request whose answer must have a status and headers.
type HTTPCheck struct {
	URL string `yaml:"url"`
	// Status is the status code expected (default 200). Redirects are
	// not followed: a 302 to a login page is not the page.
	Status HTTPStatus `yaml:"status"`
	// Headers maps a header name to a regular expression its value must
	// match (anchored); "" means present with any value.
	Headers map[string]string `yaml:"headers"`
}

// HTTPStatus is an HTTP status code.
type HTTPStatus int
