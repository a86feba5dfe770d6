// Package e2e runs the whole rollback chain with real parts: PostgreSQL and
// pgBouncer, redline_exporter (the built binary), Prometheus loading the
// rules generated from the platform spec, Alertmanager loading the
// generated route, and a webhook receiver standing in for the deployment
// tool. Only the spec's timings are shortened (`for`, group_wait).
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redline-sre/redline/internal/demo"
	"github.com/redline-sre/redline/internal/testenv"
)

var exporterBin, rulegenBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "redline-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	exporterBin = filepath.Join(dir, "redline_exporter")
	rulegenBin = filepath.Join(dir, "rulegen")
	for bin, pkg := range map[string]string{exporterBin: "../cmd/redline_exporter", rulegenBin: "../cmd/rulegen"} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", pkg, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logWriter sends the webhook's lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

func startStack(t *testing.T) *demo.Stack { return startStackOn(t, false) }

// startStackOn starts the stack with Prometheus evaluating the rules, or
// with vmalert against VictoriaMetrics.
func startStackOn(t *testing.T, vmalert bool) *demo.Stack {
	t.Helper()
	bins := []string{"initdb", "pgbouncer", "prometheus", "alertmanager"}
	if vmalert {
		bins = []string{"initdb", "pgbouncer", "victoria-metrics", "vmalert", "alertmanager"}
	}
	for _, bin := range bins {
		testenv.Binary(t, bin)
	}
	s, err := demo.StartStack(context.Background(), demo.StackOptions{
		ExporterBin:     exporterBin,
		Dir:             t.TempDir(),
		Spec:            demo.SpecOverrides{For: 2 * time.Second, GroupWait: time.Second, GroupInterval: time.Second},
		BehindColumnTTL: time.Second,
		Interval:        time.Second,
		Log:             logWriter{t},
		VMAlert:         vmalert,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("exporter log:\n%s\nalertmanager log:\n%s", s.Exporter.Log(), s.Alertmanager.Log())
			if s.Prometheus != nil {
				t.Logf("prometheus log:\n%s", s.Prometheus.Log())
			}
			if s.VMAlert != nil {
				t.Logf("victoria-metrics log:\n%s\nvmalert log:\n%s", s.VictoriaMetrics.Log(), s.VMAlert.Log())
			}
		}
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func alert(name, status string) func(demo.Delivery) bool {
	return func(d demo.Delivery) bool {
		return d.Labels["alertname"] == name && d.Status == status
	}
}

func TestRollbackChain(t *testing.T) {
	ctx := context.Background()
	s := startStack(t)

	// A Prisma migration that failed (its row unfinished, no run holding
	// Prisma's lock). Planted first: the exporter finds new migration
	// tables within its one-minute table-list TTL, which the pool steps
	// below outlast; the webhook is checked at the end.
	migrationPlanted := time.Now()
	failedMigration(t, s.TradingDSN)

	// A saturated pool: more clients holding transactions than the pool
	// has server connections.
	start := time.Now()
	sat, err := demo.Saturate(ctx, s.AppDSN, 2*demo.TradingPoolSize+1, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fired, ok := s.Webhook.WaitFor(90*time.Second, alert("PgBouncerPoolSaturated", "firing"))
	if !ok {
		sat.Stop()
		t.Fatalf("no PgBouncerPoolSaturated rollback webhook within 90s; got %+v", s.Webhook.Deliveries())
	}
	t.Logf("pool saturated → rollback webhook in %s", fired.Received.Sub(start).Round(100*time.Millisecond))
	for k, want := range map[string]string{"rollback": "true", "action": "rollback", "service": "platform", "severity": "critical", "database": demo.TradingDB} {
		if got := fired.Labels[k]; got != want {
			t.Errorf("webhook label %s = %q, want %q (labels %v)", k, got, want, fired.Labels)
		}
	}
	if fired.Annotations["summary"] == "" || fired.Annotations["description"] == "" {
		t.Errorf("webhook alert lacks summary/description: %v", fired.Annotations)
	}

	released := time.Now()
	sat.Stop()
	resolved, ok := s.Webhook.WaitFor(90*time.Second, alert("PgBouncerPoolSaturated", "resolved"))
	if !ok {
		t.Fatalf("PgBouncerPoolSaturated never resolved after the pool was released; got %+v", s.Webhook.Deliveries())
	}
	t.Logf("pool released → resolved webhook in %s", resolved.Received.Sub(released).Round(100*time.Millisecond))

	// A sequence behind its column: the next insert would collide.
	planted := time.Now()
	behind, err := demo.PlantSequenceBehind(ctx, s.TradingDSN, "fills")
	if err != nil {
		t.Fatal(err)
	}
	seq, ok := s.Webhook.WaitFor(90*time.Second, alert("SequenceBehindColumn", "firing"))
	if !ok {
		t.Fatalf("no SequenceBehindColumn rollback webhook within 90s; got %+v", s.Webhook.Deliveries())
	}
	t.Logf("sequence planted %d behind → rollback webhook in %s", behind, seq.Received.Sub(planted).Round(100*time.Millisecond))
	for k, want := range map[string]string{"rollback": "true", "datname": demo.TradingDB, "table": "fills", "column": "id"} {
		if got := seq.Labels[k]; got != want {
			t.Errorf("webhook label %s = %q, want %q (labels %v)", k, got, want, seq.Labels)
		}
	}

	mig, ok := s.Webhook.WaitFor(120*time.Second, alert("MigrationFailed", "firing"))
	if !ok {
		t.Fatalf("no MigrationFailed rollback webhook within 120s of the checks above; got %+v", s.Webhook.Deliveries())
	}
	t.Logf("failed migration planted → rollback webhook in %s", mig.Received.Sub(migrationPlanted).Round(100*time.Millisecond))
	for k, want := range map[string]string{"rollback": "true", "datname": demo.TradingDB, "schemaname": "public", "tool": "prisma"} {
		if got := mig.Labels[k]; got != want {
			t.Errorf("webhook label %s = %q, want %q (labels %v)", k, got, want, mig.Labels)
		}
	}
}

// failedMigration creates Prisma's history table as prisma-engines does,
// with one migration applied and one that failed.
func failedMigration(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		`CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`,
		`INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count)
  VALUES ('1', 'x', now(), '20260101000000_init', 1)`,
		`INSERT INTO _prisma_migrations (id, checksum, migration_name, logs)
  VALUES ('2', 'x', '20260102000000_fills_index', 'ERROR: could not create unique index')`,
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("plant failed migration: %v", err)
		}
	}
}
