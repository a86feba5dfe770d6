package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/evidence"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/spec"
)

// signFlags are --subject and --signing-key, the same on every command
// that writes a verdict (preflight; serve and judge take them alike).
type signFlags struct {
	subjects *[]string
	key      *string
}

func addSignFlags(c *kingpin.CmdClause) *signFlags {
	return &signFlags{
		subjects: c.Flag("subject", "The release artifact the verdict is about, NAME@sha256:HEX (an image digest or a git commit); repeatable.").PlaceHolder("NAME@sha256:HEX").Strings(),
		key:      c.Flag("signing-key", "Sign the evidence with this private key (PEM: cosign's encrypted key with "+attest.PasswordEnv+", PKCS#8 or SEC 1 ECDSA P-256, PKCS#8 Ed25519) into "+attest.FileName+".").PlaceHolder("FILE").String(),
	}
}

// hook returns preflight's evidence hook: nil without --signing-key.
// Key and subjects are read before anything runs, so that a bad key is
// a flag error (exit 2), not a lost run.
// With stages (--watch), each round's directory is a stage verdict,
// signed without the release set's count and one-liner.
func (f *signFlags) hook(ctx context.Context, specFile, evidenceDir string, stages bool) (preflight.EvidenceHook, error) {
	sl, err := f.load(specFile, evidenceDir)
	if sl == nil || err != nil {
		return nil, err
	}
	return func(dir string, m *model.Model, rep *preflight.Report) error {
		config, err := evidence.Configuration(sl.specName, sl.specData, m)
		if err != nil {
			return err
		}
		if stages {
			return attest.Seal(ctx, dir, evidence.VerdictOf(rep, sl.subjects, config), sl.signer)
		}
		return evidence.SealPreflight(ctx, dir, m, rep, sl.subjects, config, sl.signer)
	}, nil
}

// sealer signs a command's verdicts: the key, the subjects and the spec
// the configuration names.
type sealer struct {
	subjects []attest.Subject
	signer   dsse.Signer
	specName string
	specData []byte
}

// load reads the key and the subjects: nil without --signing-key.
func (f *signFlags) load(specFile, evidenceDir string) (*sealer, error) {
	subjects, err := parseSubjects(*f.subjects)
	if err != nil {
		return nil, err
	}
	if *f.key == "" {
		if len(subjects) > 0 {
			return nil, errors.New("--subject needs --signing-key: the subject is named in the signed attestation")
		}
		return nil, nil
	}
	if evidenceDir == "" {
		return nil, errors.New("--signing-key signs the evidence: give --evidence DIR")
	}
	if len(subjects) == 0 {
		return nil, errors.New("--signing-key needs --subject NAME@sha256:HEX: the attestation is about a release artifact")
	}
	signer, err := attest.LoadSigner(*f.key, []byte(os.Getenv(attest.PasswordEnv)))
	if err != nil {
		return nil, fmt.Errorf("--signing-key: %w", err)
	}
	name, data, err := specSource(specFile)
	if err != nil {
		return nil, err
	}
	return &sealer{subjects: subjects, signer: signer, specName: name, specData: data}, nil
}

// seal signs dir with the verdict that verdict makes of the
// configuration.
func (s *sealer) seal(ctx context.Context, dir string, m *model.Model, verdict func([]attest.Subject, []attest.Resource) *attest.Verdict) error {
	config, err := evidence.Configuration(s.specName, s.specData, m)
	if err != nil {
		return err
	}
	return attest.Seal(ctx, dir, verdict(s.subjects, config), s.signer)
}

func parseSubjects(list []string) ([]attest.Subject, error) {
	var out []attest.Subject
	for _, s := range list {
		sub, err := attest.ParseSubject(s)
		if err != nil {
			return nil, fmt.Errorf("--subject: %w", err)
		}
		out = append(out, sub)
	}
	return out, nil
}

// specSource is the spec file's name and bytes, or the built-in spec's.
func specSource(specFile string) (string, []byte, error) {
	if specFile == "" {
		return spec.DefaultName, spec.DefaultSpec, nil
	}
	data, err := os.ReadFile(specFile)
	return specFile, data, err
}

type evidenceCmds struct {
	verify                           *kingpin.CmdClause
	verifyDir, verifyKey, verifySpec *string
	verifySubjects                   *[]string
	check                            *kingpin.CmdClause
	checkDir, checkSpec              *string
	drill                            *drillFlags
}

func evidenceCommands(app *kingpin.Application) *evidenceCmds {
	c := &evidenceCmds{}
	c.verify = app.Command("verify", "Verify a signed evidence directory offline (a release's, a gate stage's DIR/<release>/stage-N, a judge's, a --watch round's): the signature, every file's digest, the subject, the stored check values judged again against the spec, a stage decided again from its checks, and the judge run again on its stored samples. Exit 0 verified and GO, 1 a difference (named) or a signed NO-GO, 2 flags, key or spec.")
	c.verifyDir = c.verify.Flag("evidence", "The evidence directory.").Required().PlaceHolder("DIR").String()
	c.verifyKey = c.verify.Flag("key", "Public key (PEM, as cosign.pub).").Required().PlaceHolder("PUB").String()
	c.verifySpec = c.verify.Flag("spec", "Spec file the release was judged with (default: the "+spec.DefaultName+" spec).").PlaceHolder("FILE").String()
	c.verifySubjects = c.verify.Flag("subject", "The artifact to be deployed, NAME@sha256:HEX; must be a subject of the attestation. Repeatable.").PlaceHolder("NAME@sha256:HEX").Strings()
	c.check = app.Command("evidence", "Evidence set commands.").Command("check", "List every file the spec's evidence plan expects in DIR, present or missing (artifact_count.txt), and print the release's one-liner; exit 1 when a file is missing.")
	c.checkDir = c.check.Arg("dir", "The evidence directory.").Required().String()
	c.checkSpec = c.check.Flag("spec", "Spec file (default: the "+spec.DefaultName+" spec).").PlaceHolder("FILE").String()
	c.drill = drillCommand(app)
	return c
}

// run runs cmd when it is one of these commands.
func (c *evidenceCmds) run(ctx context.Context, cmd string, stdout, stderr io.Writer) (int, bool) {
	switch cmd {
	case c.verify.FullCommand():
		return runVerify(ctx, c, stdout, stderr), true
	case c.check.FullCommand():
		return runEvidenceCheck(c, stdout, stderr), true
	case c.drill.cmd.FullCommand():
		return runDrill(ctx, c.drill, stdout, stderr), true
	}
	return 0, false
}

func runVerify(ctx context.Context, c *evidenceCmds, stdout, stderr io.Writer) int {
	key, err := attest.LoadVerifier(*c.verifyKey)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen verify: --key: %v\n", err)
		return exitInvalid
	}
	subjects, err := parseSubjects(*c.verifySubjects)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen verify: %v\n", err)
		return exitInvalid
	}
	m, _, code := loadModel(*c.verifySpec, stderr)
	if m == nil {
		return code
	}
	name, data, err := specSource(*c.verifySpec)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen verify: %v\n", err)
		return exitInvalid
	}
	out := evidence.Verify(ctx, *c.verifyDir, evidence.Options{
		Key: key, Subjects: subjects, Spec: &evidence.Spec{Name: name, Data: data, Model: m},
	})
	if len(out.Problems) > 0 {
		for _, p := range out.Problems {
			fmt.Fprintf(stderr, "rulegen verify: %s: %s\n", *c.verifyDir, p)
		}
		fmt.Fprintf(stderr, "rulegen verify: %s: NOT VERIFIED (%d problems)\n", *c.verifyDir, len(out.Problems))
		return exitCheckFailed
	}
	v := out.Verdict
	var subs []string
	for _, s := range v.Subjects {
		subs = append(subs, s.String())
	}
	fmt.Fprintf(stdout, "verified %s: %s for %s (%d passed, %d warned, %d failed checks)\n", *c.verifyDir, v.Result, strings.Join(subs, ", "), len(v.Passed), len(v.Warned), len(v.Failed))
	if line, err := os.ReadFile(filepath.Join(*c.verifyDir, evidence.OnelinerFile)); err == nil {
		fmt.Fprint(stdout, string(line))
	}
	if v.Result == attest.Failed {
		// Authentic, and a NO-GO: a deploy step stops here too.
		fmt.Fprintf(stderr, "rulegen verify: %s: the signed verdict is FAILED (NO-GO or no data): do not deploy; failed checks: %s\n", *c.verifyDir, strings.Join(v.Failed, ", "))
		return exitCheckFailed
	}
	return exitOK
}

func runEvidenceCheck(c *evidenceCmds, stdout, stderr io.Writer) int {
	m, _, code := loadModel(*c.checkSpec, stderr)
	if m == nil {
		return code
	}
	dir := *c.checkDir
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "rulegen evidence check: %s is not a directory\n", dir)
		return exitInvalid
	}
	count, missing := evidence.Count(dir, evidence.Plan(m), []string{evidence.OnelinerFile})
	_, _ = stdout.Write(count)
	if _, err := os.Stat(filepath.Join(dir, attest.FileName)); os.IsNotExist(err) {
		// Unsigned: write the count and the one-liner in. A signed
		// directory already holds them, and a new file would break it.
		if err := writeDerived(dir, m, count); err != nil {
			fmt.Fprintf(stderr, "rulegen evidence check: %v\n", err)
			return exitError
		}
	}
	if line, err := os.ReadFile(filepath.Join(dir, evidence.OnelinerFile)); err == nil {
		fmt.Fprint(stdout, string(line))
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "rulegen evidence check: %s: %d files missing: %s\n", dir, len(missing), strings.Join(missing, ", "))
		return exitCheckFailed
	}
	return exitOK
}

func writeDerived(dir string, m *model.Model, count []byte) error {
	if err := os.WriteFile(filepath.Join(dir, evidence.CountFile), count, 0o644); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, preflight.EvidenceJSON))
	if err != nil {
		return fmt.Errorf("%s: no preflight report for the one-liner: %w", dir, err)
	}
	defer f.Close()
	rep, err := preflight.ReadJSON(f)
	if err != nil {
		return fmt.Errorf("%s: %w", preflight.EvidenceJSON, err)
	}
	line := evidence.Summarize(dir, m, rep, nil).Line()
	return os.WriteFile(filepath.Join(dir, evidence.OnelinerFile), []byte(line), 0o644)
}
