package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/redline-sre/redline/rulegen/drill"
	"github.com/redline-sre/redline/rulegen/evidence"
	"github.com/redline-sre/redline/rulegen/spec"
)

type drillFlags struct {
	cmd                                   *kingpin.CmdClause
	spec, alertmanager, webhookCheck, log *string
	evidence                              *string
	timeout, endsAfter                    *time.Duration
}

func drillCommand(app *kingpin.Application) *drillFlags {
	c := app.Command("drill", "Rollback dry run: post a synthetic alert per rollback alert of the spec (drill=\"true\") to Alertmanager, confirm the receiver it was grouped to is the rollback receiver and, when asked, that the webhook got it; writes "+evidence.RollbackFile+". Exit 0 passed, 1 failed, 2 spec or flags, 3 Alertmanager unreachable.")
	return &drillFlags{
		cmd:          c,
		spec:         c.Flag("spec", "Spec file (default: the "+spec.DefaultName+" spec).").PlaceHolder("FILE").String(),
		alertmanager: c.Flag("alertmanager", "Alertmanager URL (credentials in it are used for basic auth and never printed).").Required().PlaceHolder("URL").String(),
		webhookCheck: c.Flag("webhook-check", "URL listing what the rollback webhook received (the drill's alerts must appear in it).").PlaceHolder("URL").String(),
		log:          c.Flag("receiver-log", "File the rollback webhook's receiver logs each notification to (the drill's alerts must appear in it).").PlaceHolder("FILE").String(),
		evidence:     c.Flag("evidence", "Write "+evidence.RollbackFile+" into this directory (run the drill before preflight signs the directory).").PlaceHolder("DIR").String(),
		timeout:      c.Flag("timeout", "How long to wait for Alertmanager's groups and the webhook.").Default("2m").Duration(),
		endsAfter:    c.Flag("ends-after", "The drill alerts' endsAt, from now: they resolve by themselves.").Default("5m").Duration(),
	}
}

func runDrill(ctx context.Context, f *drillFlags, stdout, stderr io.Writer) int {
	if *f.webhookCheck != "" && *f.log != "" {
		fmt.Fprintln(stderr, "rulegen drill: --webhook-check and --receiver-log exclude each other")
		return exitInvalid
	}
	m, _, code := loadModel(*f.spec, stderr)
	if m == nil {
		return code
	}
	r, err := drill.Run(ctx, m, drill.Options{
		Alertmanager: *f.alertmanager, WebhookCheck: *f.webhookCheck, ReceiverLog: *f.log,
		Timeout: *f.timeout, EndsAfter: *f.endsAfter,
	})
	if err != nil {
		fmt.Fprintf(stderr, "rulegen drill: %v\n", err)
		return exitUnreachable
	}
	text := r.Text()
	_, _ = stdout.Write(text)
	if *f.evidence != "" {
		err := os.MkdirAll(*f.evidence, 0o755)
		if err == nil {
			err = os.WriteFile(filepath.Join(*f.evidence, evidence.RollbackFile), text, 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "rulegen drill: %v\n", err)
			return exitError
		}
	}
	if !r.Passed() {
		return exitCheckFailed
	}
	return exitOK
}
