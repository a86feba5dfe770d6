// Command rulegen turns a deploy-safety spec into Prometheus rules, promtool
// unit tests and an Alertmanager rollback route, and gates a release on it
// (preflight).
//
// Exit codes: 0 success; 1 generated files are stale (check) or the
// promtool tests failed (test); 2 the spec is invalid or the command line is
// wrong; 3 any other error (I/O, promtool missing). preflight: 0 GO, 1
// NO-GO, 2 spec or flags, 3 Prometheus unreachable or credentials refused.
// verify: 0 verified and GO, 1 a difference or a signed NO-GO. drill: 0
// passed, 1 failed, 3 Alertmanager unreachable. evidence check: 1 a file of
// the evidence plan is missing.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
)

func main() {
	// rulegen is short-lived and allocates ~20 MB rendering and re-parsing
	// its outputs; collecting less often saves a third of its CPU time.
	debug.SetGCPercent(400)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
