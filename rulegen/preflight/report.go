package preflight

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report as the table a person reads: one line per
// check, the decision last.
func WriteText(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "preflight %s at %s against %s (spec sha256 %s)\n\n", r.Service, r.Time.Format(time.RFC3339), r.Prometheus, specHash(r.SpecSHA256))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCHECK\tVALUE\tHEALTHY WHEN\tDETAIL")
	for _, res := range r.Results {
		status := res.Status.String()
		if !res.Required && res.Status != GO {
			status += " (warn)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", status, res.Check, cell(res.Value), cell(res.Threshold), oneLine(res.Detail))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.EvidenceNotRead) > 0 {
		fmt.Fprintf(w, "\nevidence not read (%d):\n", len(r.EvidenceNotRead))
		for _, n := range r.EvidenceNotRead {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	if r.EvidenceError != "" {
		fmt.Fprintf(w, "\n%s\n", r.EvidenceError)
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Summary())
	return err
}

// WriteJSON writes the report for machines, queries included.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func cell(s string) string {
	if s == "" {
		return "-"
	}
	return oneLine(s)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// specHash is the spec's full sha256, as `sha256sum` prints it, so that
// the report names the exact spec the checks came from.
func specHash(sha string) string {
	if sha == "" {
		return "(built-in)"
	}
	return sha
}
