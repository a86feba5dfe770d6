package preflight

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/redline-sre/redline/rulegen/model"
)

// EvidenceHook is called with each evidence directory once preflight
// has written it (each round's with --watch), to add and sign files:
// rulegen's --signing-key seals it with an attestation.
type EvidenceHook func(dir string, m *model.Model, rep *Report) error

// UnmarshalText reads a status as MarshalText writes it, so that
// preflight.json can be judged again offline.
func (s *Status) UnmarshalText(b []byte) error {
	for _, st := range []Status{GO, Unknown, NoGo} {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("status %q is not GO, UNKNOWN or NO-GO", b)
}

// ReadJSON reads a report WriteJSON wrote.
func ReadJSON(r io.Reader) (*Report, error) {
	var rep Report
	dec := json.NewDecoder(r)
	if err := dec.Decode(&rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// Decide is the decision over results: GO only when every required
// check is GO.
func Decide(results []*Result) Status { return decide(results) }

// EvidenceFiles lists the files a run writes into its evidence
// directory for m, slash-separated and sorted: the evidence plan of one
// preflight.
func EvidenceFiles(m *model.Model) []string {
	files := []string{EvidenceReport, EvidenceJSON, EvidenceBaseline, EvidenceSignals, EvidenceManifest}
	for _, t := range tables {
		if readsFamily(m, t.reads) {
			files = append(files, t.name)
		}
	}
	if len(jobs(m)) > 0 {
		files = append(files, "prom_targets.txt")
	}
	for _, c := range Checks(m) {
		files = append(files, EvidenceChecks+"/"+checkFile(c.Name))
	}
	sort.Strings(files)
	return files
}
