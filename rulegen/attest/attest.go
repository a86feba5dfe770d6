// Package attest signs a verdict: an in-toto Statement v1 with the
// test-result predicate (the release artifact as its subject, the spec,
// the rule files and the evidence manifest as its configuration, the
// checks' names by outcome) in a DSSE envelope, the line cosign reads as
// an attestation. Preflight, the gate's stages and the judge call Seal on
// their evidence directory; rulegen verify calls Open and CheckManifest.
package attest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	trv0 "github.com/in-toto/attestation/go/predicates/test_result/v0"
	ita1 "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// The envelope's and the statement's types.
const (
	// FileName is the attestation in an evidence directory: one DSSE
	// envelope on one line, as cosign attest-blob writes it.
	FileName = "attestation.intoto.jsonl"
	// PayloadType is DSSE's type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// PredicateType is the test-result predicate, v0.1.
	PredicateType = "https://in-toto.io/attestation/test-result/v0.1"
)

// Result is the predicate's verdict.
type Result string

// The predicate's three results.
const (
	Passed Result = "PASSED" // GO
	Warned Result = "WARNED" // GO, with warnings
	Failed Result = "FAILED" // NO-GO, or no data to decide
)

// ResultOf maps a GO/NO-GO to the predicate's result: GO is PASSED, or
// WARNED when a check that only warns did not pass; anything else
// (NO-GO, NO DATA) is FAILED.
func ResultOf(goDecision bool, warnings int) Result {
	switch {
	case !goDecision:
		return Failed
	case warnings > 0:
		return Warned
	}
	return Passed
}

// Roles of the configuration's resource descriptors, in their
// "role" annotation, so that a verifier finds each without guessing from
// names.
const (
	RoleSpec     = "spec"
	RoleRules    = "rules"
	RoleManifest = "evidence-manifest"
)

// Subject is the release artifact a verdict is about: an image or a
// commit, by its sha256 digest.
type Subject struct {
	Name   string
	SHA256 string
}

var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseSubject reads NAME@sha256:HEX (64 lower-case hex digits).
func ParseSubject(s string) (Subject, error) {
	i := strings.LastIndex(s, "@")
	if i <= 0 {
		return Subject{}, fmt.Errorf("subject %q: want NAME@sha256:HEX", s)
	}
	name, digest := s[:i], s[i+1:]
	algo, hexs, ok := strings.Cut(digest, ":")
	if !ok || algo != "sha256" {
		return Subject{}, fmt.Errorf("subject %q: want a sha256: digest after @", s)
	}
	if !hexDigest.MatchString(hexs) {
		return Subject{}, fmt.Errorf("subject %q: the sha256 digest must be 64 lower-case hex digits", s)
	}
	return Subject{Name: name, SHA256: hexs}, nil
}

func (s Subject) String() string { return s.Name + "@sha256:" + s.SHA256 }

// Resource is a file of the configuration, by its sha256.
type Resource struct {
	Name   string
	SHA256 string
	Role   string
}

// Verdict is what a statement says.
type Verdict struct {
	Subjects      []Subject
	Result        Result
	Configuration []Resource
	// Check names by outcome.
	Passed, Warned, Failed []string
	// URL is optional: the pipeline run that decided.
	URL string
}

// Statement builds the in-toto statement of v.
func Statement(v *Verdict) (*ita1.Statement, error) {
	if len(v.Subjects) == 0 {
		return nil, errors.New("no subject: give the release artifact as --subject NAME@sha256:HEX")
	}
	switch v.Result {
	case Passed, Warned, Failed:
	default:
		return nil, fmt.Errorf("result %q is not PASSED, WARNED or FAILED", v.Result)
	}
	st := &ita1.Statement{Type: ita1.StatementTypeUri, PredicateType: PredicateType}
	for _, s := range v.Subjects {
		st.Subject = append(st.Subject, &ita1.ResourceDescriptor{Name: s.Name, Digest: map[string]string{"sha256": s.SHA256}})
	}
	pred := &trv0.TestResult{Result: string(v.Result), Url: v.URL, PassedTests: v.Passed, WarnedTests: v.Warned, FailedTests: v.Failed}
	for _, r := range v.Configuration {
		d := &ita1.ResourceDescriptor{Name: r.Name, Digest: map[string]string{"sha256": r.SHA256}}
		if r.Role != "" {
			ann, err := structpb.NewStruct(map[string]any{"role": r.Role})
			if err != nil {
				return nil, err
			}
			d.Annotations = ann
		}
		pred.Configuration = append(pred.Configuration, d)
	}
	// The predicate is a Struct in the statement: go through its JSON.
	js, err := protojson.Marshal(pred)
	if err != nil {
		return nil, err
	}
	st.Predicate = &structpb.Struct{}
	if err := protojson.Unmarshal(js, st.Predicate); err != nil {
		return nil, err
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("statement: %w", err)
	}
	return st, nil
}

// Sign builds v's statement and returns it in a DSSE envelope signed by
// s, as one JSON line.
func Sign(ctx context.Context, v *Verdict, s dsse.Signer) ([]byte, error) {
	st, err := Statement(v)
	if err != nil {
		return nil, err
	}
	body, err := protojson.Marshal(st)
	if err != nil {
		return nil, err
	}
	es, err := dsse.NewEnvelopeSigner(s)
	if err != nil {
		return nil, err
	}
	env, err := es.SignPayload(ctx, PayloadType, body)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	line, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	return append(line, '\n'), nil
}

// Open checks the envelope's signature with v and returns the verdict
// it signs. Every error says which part is wrong.
func Open(ctx context.Context, line []byte, v dsse.Verifier) (*Verdict, error) {
	var env dsse.Envelope
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("%s: not a DSSE envelope: %v", FileName, err)
	}
	// The signature covers the payload only; the envelope must also be
	// byte for byte the one Sign wrote, so that no change to the file,
	// even one the signature cannot see, goes unnoticed.
	if again, err := json.Marshal(env); err != nil || !bytes.Equal(append(again, '\n'), line) {
		return nil, fmt.Errorf("%s: not the envelope as signed (changed outside the signed payload, or not one JSON line)", FileName)
	}
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("%s: payloadType %q, want %q", FileName, env.PayloadType, PayloadType)
	}
	ev, err := dsse.NewEnvelopeVerifier(v)
	if err != nil {
		return nil, err
	}
	_, body, err := ev.VerifyAndDecode(ctx, &env)
	if err != nil {
		return nil, fmt.Errorf("%s: the signature does not verify with the given key: %v", FileName, err)
	}
	var st ita1.Statement
	if err := protojson.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("%s: the signed payload is not an in-toto statement: %v", FileName, err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%s: statement: %v", FileName, err)
	}
	if st.Type != ita1.StatementTypeUri {
		return nil, fmt.Errorf("%s: statement _type %q, want %q", FileName, st.Type, ita1.StatementTypeUri)
	}
	if st.PredicateType != PredicateType {
		return nil, fmt.Errorf("%s: predicateType %q, want %q", FileName, st.PredicateType, PredicateType)
	}
	js, err := protojson.Marshal(st.Predicate)
	if err != nil {
		return nil, err
	}
	var pred trv0.TestResult
	if err := protojson.Unmarshal(js, &pred); err != nil {
		return nil, fmt.Errorf("%s: predicate: %v", FileName, err)
	}
	out := &Verdict{Result: Result(pred.Result), URL: pred.Url, Passed: pred.PassedTests, Warned: pred.WarnedTests, Failed: pred.FailedTests}
	for _, s := range st.Subject {
		sum := s.Digest["sha256"]
		if _, err := hex.DecodeString(sum); err != nil || len(sum) != 64 {
			return nil, fmt.Errorf("%s: subject %q has no sha256 digest", FileName, s.Name)
		}
		out.Subjects = append(out.Subjects, Subject{Name: s.Name, SHA256: sum})
	}
	for _, d := range pred.Configuration {
		r := Resource{Name: d.Name, SHA256: d.Digest["sha256"]}
		if role, ok := d.GetAnnotations().GetFields()["role"]; ok {
			r.Role = role.GetStringValue()
		}
		out.Configuration = append(out.Configuration, r)
	}
	return out, nil
}

// Resources returns the configuration entries with role.
func (v *Verdict) Resources(role string) []Resource {
	var out []Resource
	for _, r := range v.Configuration {
		if r.Role == role {
			out = append(out, r)
		}
	}
	return out
}
