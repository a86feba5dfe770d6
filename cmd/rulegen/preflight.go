package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/config"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/spec"
)

// Exit codes of rulegen preflight: 0 GO, 1 NO-GO, 2 spec or flags (as the
// other commands), 3 Prometheus unreachable or credentials refused.
const (
	exitGo          = 0
	exitNoGo        = 1
	exitUnreachable = 3
)

type preflightFlags struct {
	cmd                            *kingpin.CmdClause
	spec, prometheus, evidence     *string
	output                         *string
	timeout, queryTimeout          *time.Duration
	watch, interval                *time.Duration
	concurrency                    *int
	httpConfig                     *string
	bearerFile, username, passFile *string
	caFile, certFile, keyFile      *string
	insecure                       *bool
	sign                           *signFlags
}

func preflightCommand(app *kingpin.Application) *preflightFlags {
	c := app.Command("preflight", "GO/NO-GO of a release from the spec, read from Prometheus: exit 0 GO, 1 NO-GO, 2 spec or flag error, 3 Prometheus unreachable or credentials refused.")
	f := &preflightFlags{
		cmd:          c,
		spec:         c.Flag("spec", "Spec file, or \""+platformSpec+"\" (the default) for the redline platform's built-in spec.").PlaceHolder("FILE").String(),
		evidence:     c.Flag("evidence", "Write the evidence files into this directory (one subdirectory per round with --watch).").PlaceHolder("DIR").String(),
		output:       c.Flag("output", "Report format: text or json.").Default("text").Enum("text", "json"),
		timeout:      c.Flag("timeout", "Deadline of one run; checks not answered by then are UNKNOWN.").Default("60s").Duration(),
		queryTimeout: c.Flag("query-timeout", "Deadline of each query (at most --timeout).").Default("10s").Duration(),
		concurrency:  c.Flag("concurrency", "Checks run at once.").Default("8").Int(),
		watch:        c.Flag("watch", "Re-run every --interval for this long and stop at the first NO-GO (exit 1): one canary stage's gate.").PlaceHolder("DURATION").Duration(),
		interval:     c.Flag("interval", "Time between runs with --watch.").Default("30s").Duration(),
		sign:         addSignFlags(c),
	}
	f.addClientFlags(c)
	return f
}

// httpConfig builds the client configuration from --http.config.file or
// from the single flags; secrets stay in their files, read per request.
func (f *preflightFlags) httpClientConfig() (config.HTTPClientConfig, error) {
	single := *f.bearerFile != "" || *f.username != "" || *f.passFile != "" || *f.caFile != "" || *f.certFile != "" || *f.keyFile != "" || *f.insecure
	if *f.httpConfig != "" {
		if single {
			return config.HTTPClientConfig{}, errors.New("--http.config.file and the single auth/TLS flags exclude each other")
		}
		cfg, _, err := config.LoadHTTPConfigFile(*f.httpConfig)
		if err != nil {
			return config.HTTPClientConfig{}, fmt.Errorf("--http.config.file: %w", err)
		}
		return *cfg, nil
	}
	cfg := config.DefaultHTTPClientConfig
	if *f.username != "" || *f.passFile != "" {
		if *f.username == "" || *f.passFile == "" {
			return cfg, errors.New("--basic-auth.username and --basic-auth.password-file go together")
		}
		cfg.BasicAuth = &config.BasicAuth{Username: *f.username, PasswordFile: *f.passFile}
	}
	if *f.bearerFile != "" {
		if cfg.BasicAuth != nil {
			return cfg, errors.New("--bearer-token-file and basic auth exclude each other")
		}
		cfg.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: *f.bearerFile}
	}
	cfg.TLSConfig = config.TLSConfig{CAFile: *f.caFile, CertFile: *f.certFile, KeyFile: *f.keyFile, InsecureSkipVerify: *f.insecure}
	return cfg, nil
}

func runPreflight(ctx context.Context, f *preflightFlags, stdout, stderr io.Writer) int {
	m, sum, code := loadModel(*f.spec, stderr)
	if m == nil {
		return code
	}
	cfg, err := f.httpClientConfig()
	if err != nil {
		fmt.Fprintf(stderr, "rulegen preflight: %v\n", err)
		return exitInvalid
	}
	if *f.watch < 0 || *f.interval <= 0 || *f.timeout <= 0 || *f.concurrency <= 0 {
		fmt.Fprintln(stderr, "rulegen preflight: --watch, --interval, --timeout and --concurrency must be positive")
		return exitInvalid
	}
	opts := preflight.Options{
		Server:  preflight.Server{URL: *f.prometheus, Config: cfg},
		Timeout: *f.timeout, QueryTimeout: *f.queryTimeout, Concurrency: *f.concurrency,
		SpecSHA256: sum,
	}
	opts.EvidenceDir = *f.evidence
	// judgeRound judges a --watch round without evidence (with evidence,
	// the evidence hook does, before the round's files are signed).
	var judgeRound func(*preflight.Report)
	if opts.OnEvidence, err = f.sign.hook(ctx, *f.spec, *f.evidence, *f.watch > 0); err != nil {
		fmt.Fprintf(stderr, "rulegen preflight: %v\n", err)
		return exitInvalid
	}
	if *f.watch > 0 {
		// Each round is judged as the gate judges a stage.
		rj, err := newRoundJudge(m, opts.Server, *f.watch, *f.queryTimeout)
		if err != nil {
			fmt.Fprintf(stderr, "rulegen preflight: %v\n", err)
			return exitInvalid
		}
		if rj != nil {
			sign := opts.OnEvidence
			opts.OnEvidence = func(dir string, m *model.Model, rep *preflight.Report) error {
				if err := rj.add(ctx, rep, dir); err != nil {
					return err
				}
				if sign != nil {
					return sign(dir, m, rep)
				}
				return nil
			}
			if opts.EvidenceDir == "" {
				judgeRound = func(rep *preflight.Report) { _ = rj.add(ctx, rep, "") }
			}
		}
	}
	write := preflight.WriteText
	if *f.output == "json" {
		write = preflight.WriteJSON
	}
	each := func(rep *preflight.Report) error {
		if judgeRound != nil {
			judgeRound(rep)
		}
		return write(stdout, rep)
	}
	var rep *preflight.Report
	if *f.watch > 0 {
		rep, err = preflight.Watch(ctx, m, opts, *f.watch, *f.interval, each)
	} else if rep, err = preflight.Run(ctx, m, opts); rep != nil {
		if werr := each(rep); werr != nil && err == nil {
			err = werr
		}
	}
	var unreachable *preflight.UnreachableError
	switch {
	case errors.As(err, &unreachable):
		fmt.Fprintf(stderr, "rulegen preflight: %v\n", err)
		return exitUnreachable
	case err != nil && rep == nil:
		// The URL or the HTTP configuration is wrong: nothing ran.
		fmt.Fprintf(stderr, "rulegen preflight: %v\n", err)
		return exitInvalid
	case err != nil:
		fmt.Fprintf(stderr, "rulegen preflight: %v\n", err)
		return exitError
	case rep.Decision != preflight.GO:
		if *f.watch > 0 {
			fmt.Fprintln(stderr, "rulegen preflight: NO-GO; the watch stops here")
		}
		return exitNoGo
	}
	return exitGo
}

// loadModel reads the spec (or the built-in one) and builds its model; it
// returns the spec's sha256 for the report.
func loadModel(specFile string, stderr io.Writer) (*model.Model, string, int) {
	data := spec.DefaultSpec
	name := spec.DefaultName
	if specFile != "" && specFile != platformSpec {
		var err error
		if data, err = os.ReadFile(specFile); err != nil {
			fmt.Fprintf(stderr, "rulegen preflight: --spec: %v\n", err)
			return nil, "", exitInvalid
		}
		name = specFile
	}
	s, err := spec.Load(name, data)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return nil, "", exitInvalid
	}
	m, err := model.Build(s, name)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen preflight: %v\n", err)
		return nil, "", exitInvalid
	}
	return m, fmt.Sprintf("%x", sha256.Sum256(data)), exitOK
}
