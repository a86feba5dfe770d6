package model

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/redline-sre/redline/rulegen/spec"
)

// NoDataCheck describes an SLO's SliMissing alert for test synthesis.
type NoDataCheck struct {
	SLO    *spec.SLO
	Signal *Signal
	// Absent is the SLI's total series, the ones absent() watches.
	Absent *AbsentCheck
	// MinRate is the traffic under which the SLI says nothing (nil: only
	// missing series fire).
	MinRate *big.Rat
	// Up is the target-up selector the alert requires (up{job="…"}), ""
	// when the source names no job.
	Up string
}

// addSLIMissing adds the alert that an SLO's SLI has no data while its
// target is up: its total series are absent, or its traffic is below the
// SLO's min_rate. The burn-rate and freeze alerts are silent without
// data, so without this a missing SLI would read as a met SLO. A target
// that is down is the dead-target alerts' case, not this one.
func (m *Model) addSLIMissing(o *spec.SLO, sig *Signal) error {
	src := sig.Source()
	vs, err := parseSelector(src)
	if err != nil {
		return fmt.Errorf("slo %s: %w", o.Name, err)
	}
	check := &NoDataCheck{SLO: o, Signal: sig, Absent: &AbsentCheck{Source: src, Selector: vs, Labels: absentLabels(vs)}}
	expr := "absent(" + src + ")"
	what := "no series matches " + src
	if o.MinRate != nil && o.MinRate.Rat().Sign() > 0 && sig.Traffic != "" {
		check.MinRate = o.MinRate.Rat()
		expr = fmt.Sprintf("(\n  %s\n  or\n  %s < %s\n)", expr, sig.Traffic, o.MinRate.String())
		what += fmt.Sprintf(" or its traffic is below %s requests/s", o.MinRate.String())
	}
	for _, lm := range vs.LabelMatchers {
		if lm.Name == "job" && lm.Type == labels.MatchEqual && lm.Value != "" {
			check.Up = fmt.Sprintf("up{job=%q}", lm.Value)
			break
		}
	}
	up := ""
	if check.Up != "" {
		// Any instance of the job answering is enough: the SLI is then
		// missing from a live service, which no dead-target alert sees.
		expr += fmt.Sprintf("\nand on()\n(max(%s) == 1)", check.Up)
		up = fmt.Sprintf(" while %s is 1", check.Up)
	}
	a := &Alert{Name: o.SLIMissingAlert(), Expr: expr, For: o.NoDataFor, NoData: check}
	for l := range check.Absent.Labels {
		a.SeriesLabels = append(a.SeriesLabels, l)
	}
	sort.Strings(a.SeriesLabels)
	a.Labels = m.baseLabels("warning", spec.ActionTicket, sig.Name)
	a.Labels["slo"] = o.Name
	a.Annotations = map[string]string{
		"summary": fmt.Sprintf("%s: SLO %s has no SLI data (%s has no series or too little traffic)", a.Name, o.Name, sig.Name),
		"description": strings.Join([]string{
			fmt.Sprintf("The alert fires when %s%s for %s; the value is %s (1 from absent(), else the request rate).", what, up, o.NoDataFor.String(), NoDataValueTemplate),
			fmt.Sprintf("Without data the burn-rate alerts of %s are silent, which is not a met SLO.", o.Name),
		}, " "),
	}
	m.Alerts = append(m.Alerts, a)
	return nil
}

// NoDataValueTemplate shows the SliMissing alert's value: 1 from absent(),
// else the request rate, which Prometheus prints with float noise.
const NoDataValueTemplate = `{{ $value | printf "%.3g" }}`
