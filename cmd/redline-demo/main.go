// Command redline-demo runs the whole product on one machine: a throwaway
// PostgreSQL + pgBouncer with a demo workload (dead tuples, a sequence
// behind its column, a pool that saturates every other minute), a platform
// stand-in whose event loop stalls now and then, redline_exporter,
// Prometheus with the rules generated from the platform spec, and
// Alertmanager with the generated route pointing at a webhook receiver that
// prints each rollback it receives. Ctrl-C stops everything and removes its
// data; --seconds (or DEMO_SECONDS) makes it stop by itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/redline-sre/redline/internal/demo"
	"github.com/redline-sre/redline/rulegen/preflight"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("redline-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	exporter := fs.String("exporter", "bin/redline_exporter", "redline_exporter binary")
	rulegen := fs.String("rulegen", "bin/rulegen", "rulegen binary, as the printed preflight commands name it")
	seconds := fs.Int("seconds", envInt("DEMO_SECONDS"), "stop after this many seconds (0: run until Ctrl-C)")
	keep := fs.Bool("keep", false, "keep the generated files (rules, Alertmanager config, dashboard) after stopping")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *seconds > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*seconds)*time.Second)
		defer cancel()
	}
	if err := demoRun(ctx, *exporter, *rulegen, *keep, stdout); err != nil {
		fmt.Fprintln(stderr, "redline-demo:", err)
		return 1
	}
	return 0
}

func demoRun(ctx context.Context, exporterBin, rulegenBin string, keep bool, out io.Writer) error {
	if _, err := os.Stat(exporterBin); err != nil {
		return fmt.Errorf("%s: %w (run `make build` first)", exporterBin, err)
	}
	dir, err := os.MkdirTemp("", "redline-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintln(out, "redline demo: starting PostgreSQL, pgBouncer, the platform stand-in, redline_exporter, Prometheus and Alertmanager…")
	s, err := demo.StartStack(ctx, demo.StackOptions{
		ExporterBin: exporterBin,
		RulegenBin:  rulegenBin,
		Dir:         dir,
		// The platform's triggers wait 1–15 minutes; the demo waits 15s so
		// that rollbacks show within a minute. Thresholds are unchanged.
		// There is no yesterday for the CSP baseline: NewStack makes its
		// preflight check a warning.
		Spec:            demo.SpecOverrides{For: 15 * time.Second, GroupWait: 5 * time.Second, GroupInterval: 10 * time.Second, NewStack: true},
		BehindColumnTTL: 15 * time.Second,
		Interval:        5 * time.Second,
		Log:             out,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(out, "redline demo: stopping everything and removing its data")
		_ = s.Stop()
	}()

	if err := demo.CreateHealthyTable(ctx, s.TradingDSN, "accounts"); err != nil {
		return err
	}
	printGuide(out, s, dir, keep)

	// T-10: the release gate, once the stack has data. Recordings need a
	// few scrapes; until then the preflight says UNKNOWN, never GO.
	fmt.Fprintf(out, "%s preflight before the workload (waits up to 60s for the stack's data):\n", time.Now().Format("15:04:05"))
	if _, err := s.Preflight(ctx, dir, "preflight-before", 60*time.Second, func(r *preflight.Report) bool { return r.Decision == preflight.GO }, out); err != nil {
		return ignoreDone(ctx, err)
	}

	if err := demo.PlantDeadTuples(ctx, s.TradingDSN, "orders", 50000); err != nil {
		return err
	}
	if _, err := demo.PlantSequenceBehind(ctx, s.TradingDSN, "fills"); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s workload: dead tuples in %q, sequence of %q 990 behind its column\n", time.Now().Format("15:04:05"), "orders", "fills")

	// Saturate the trading pool for 45s of every 90s, so its rollback both
	// fires and resolves while you watch.
	t := time.NewTicker(90 * time.Second)
	defer t.Stop()
	for round := 0; ; round++ {
		sat, err := demo.Saturate(ctx, s.AppDSN, 2*demo.TradingPoolSize+1, time.Second)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s workload: saturating pgBouncer pool %q for 45s\n", time.Now().Format("15:04:05"), demo.TradingDB)
		released := time.After(45 * time.Second)
		if round == 0 {
			// The gate again, during the saturation: NO-GO, naming the pool
			// and the sequence.
			fmt.Fprintf(out, "%s preflight during the saturation:\n", time.Now().Format("15:04:05"))
			_, err := s.Preflight(ctx, dir, "preflight-during", 40*time.Second, saturatedAndBehind, out)
			if err != nil {
				sat.Stop()
				return ignoreDone(ctx, err)
			}
		}
		select {
		case <-ctx.Done():
			sat.Stop()
			return nil
		case <-released:
		}
		sat.Stop()
		fmt.Fprintf(out, "%s workload: pool released\n", time.Now().Format("15:04:05"))
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// saturatedAndBehind accepts a preflight that names both planted problems.
func saturatedAndBehind(r *preflight.Report) bool {
	n := 0
	for _, res := range r.Results {
		if (res.Check == "trigger:PgBouncerPoolSaturated" || res.Check == "trigger:SequenceBehindColumn") && res.Status == preflight.NoGo {
			n++
		}
	}
	return n == 2
}

// ignoreDone turns the end of the demo's time (DEMO_SECONDS, Ctrl-C)
// during a preflight into a normal stop.
func ignoreDone(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func printGuide(out io.Writer, s *demo.Stack, dir string, keep bool) {
	fmt.Fprintf(out, `
redline demo is running. Stop it with Ctrl-C.

  Prometheus          %[1]s          alerts: %[1]s/alerts   rules: %[1]s/rules
  Alertmanager        %[2]s
  redline_exporter    %[3]s/metrics  one target: %[3]s/probe?target=pgbouncer
  platform stand-in   %[4]s/metrics  (no-op route probed for event-loop lag: %[4]s/noop)
  rollback webhook    %[5]s          (its deliveries are printed below)

Generated from the platform spec (triggers' "for" shortened to 15s for the demo, but not the leak and
reconnect triggers': their "for" outlasts their window so that a one-time step never fires them):
  %[6]s/rules/platform.rules.yml  %[6]s/alertmanager/platform.yml  %[6]s/dashboards/platform.json%[7]s

What to look at:
  - pgbouncer_pool_saturation_ratio{database="trading"} reaches 1 while the pool is saturated, and
    PgBouncerPoolSaturated reaches the webhook about 30s later; it resolves after the release.
  - pg_sequence_behind_column{table="fills"} is 990 once planted: SequenceBehindColumn rolls back.
  - pg_table_dead_tuple_ratio{relname="orders"} is about 0.4: DeadTupleBloat.
  - histogram_quantile(0.95, rate(redline_eventloop_probe_duration_seconds_bucket[1m])): the
    platform's event loop stalls 120ms every 3s.
  - two preflight tables below: one before the workload (GO once the stack has data), one during the
    saturation (NO-GO naming the pool and the sequence); their evidence is in %[6]s/preflight-*.

`, s.Prometheus.URL, s.Alertmanager.URL, s.ExporterURL, s.PlatformURL, s.WebhookURL, dir, keepNote(keep))
}

func keepNote(keep bool) string {
	if keep {
		return "\n  (kept after the demo stops: --keep)"
	}
	return "\n  (removed when the demo stops; pass --keep to keep them)"
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}
