// Package preflight is `rulegen preflight`: the GO/NO-GO of a release,
// read from Prometheus. Its checks come from the model (every trigger's
// condition and alert state, every SLO's burn alerts and remaining budget,
// the scrape targets the selectors name, every signal's source series and
// traffic) and from the spec's preflight: section (PromQL and HTTP
// checks). A check that cannot tell — no data, NaN, a failed query — is
// UNKNOWN, and UNKNOWN is never GO.
package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Status is a check's outcome.
type Status int

// The three outcomes. Their order is their severity.
const (
	GO Status = iota
	Unknown
	NoGo
)

func (s Status) String() string {
	switch s {
	case GO:
		return "GO"
	case NoGo:
		return "NO-GO"
	}
	return "UNKNOWN"
}

// MarshalText writes the status as the table shows it.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Check is one question asked of Prometheus (or of an HTTP server).
type Check struct {
	// Name is kind:subject, e.g. trigger:PgBouncerPoolSaturated.
	Name string
	// Required false makes a failing check a warning, not a NO-GO.
	Required bool
	// Threshold says what healthy is, as shown in the table.
	Threshold string
	// after says the check reads the outcome of signal checks (run first).
	after bool
	// signal names the signal a signal check is about.
	signal string
	run    func(ctx context.Context, e *env) Outcome
}

// Outcome is what a check found.
type Outcome struct {
	Status Status
	// Value is the current value, as shown in the table.
	Value string
	// Detail says why: the series that fail, the missing data, the fix.
	Detail string
	// Warning makes this outcome of a required check a warning: an
	// UNKNOWN that stems only from checks the spec made warnings.
	Warning bool
}

// Result is a check with its outcome and the queries it made.
type Result struct {
	Check     string  `json:"check"`
	Required  bool    `json:"required"`
	Status    Status  `json:"status"`
	Value     string  `json:"value,omitempty"`
	Threshold string  `json:"threshold,omitempty"`
	Detail    string  `json:"detail,omitempty"`
	Queries   []Query `json:"queries"`
	// Duration is how long the check took.
	Duration time.Duration `json:"-"`
}

// Query is one request a check made, as evidence: what was asked, at which
// evaluation time, and the raw answer.
type Query struct {
	// Kind is promql, api or http.
	Kind     string          `json:"kind"`
	Request  string          `json:"request"`
	Time     time.Time       `json:"time"`
	Result   json.RawMessage `json:"result,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// Report is one preflight run.
type Report struct {
	Service string `json:"service"`
	// Decision is GO or NO-GO: GO only when every required check is GO.
	Decision Status `json:"decision"`
	// Time is the evaluation time of every query.
	Time time.Time `json:"time"`
	// Prometheus is the server's URL without credentials.
	Prometheus string `json:"prometheus"`
	// SpecSHA256 identifies the spec the checks were derived from.
	SpecSHA256 string        `json:"spec_sha256"`
	Elapsed    time.Duration `json:"-"`
	Results    []*Result     `json:"checks"`
	// EvidenceNotRead lists the evidence that could not be read, each as
	// "file: why" (a table's query that timed out).
	EvidenceNotRead []string `json:"evidence_not_read,omitempty"`
	// EvidenceError says the evidence could not be written; the decision
	// is then NO-GO: a gate does not pass without its record.
	EvidenceError string `json:"evidence_error,omitempty"`
}

// Failing lists the results that are not GO, required ones or warnings.
func (r *Report) Failing(required bool) []*Result {
	var out []*Result
	for _, res := range r.Results {
		if res.Status != GO && res.Required == required {
			out = append(out, res)
		}
	}
	return out
}

// Summary is the verdict in one line.
func (r *Report) Summary() string {
	failing, warn := r.Failing(true), r.Failing(false)
	counts := map[Status]int{}
	for _, res := range failing {
		counts[res.Status]++
	}
	s := fmt.Sprintf("%s: %d checks, %d NO-GO, %d UNKNOWN, %d warnings", r.Decision, len(r.Results), counts[NoGo], counts[Unknown], len(warn))
	if r.EvidenceError != "" {
		s += " — the evidence was not written"
	}
	if len(failing) > 0 {
		s += " — blocking:"
		for i, res := range failing {
			if i > 0 {
				s += ","
			}
			s += " " + res.Check
		}
	}
	return s
}

func decide(results []*Result) Status {
	for _, res := range results {
		if res.Required && res.Status != GO {
			return NoGo
		}
	}
	return GO
}
