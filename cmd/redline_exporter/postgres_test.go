package main

import (
	"strings"
	"testing"
)

// TestPostgresTargetFromFlag checks the wiring of the postgres kind: a
// --postgres.dsn target is collected and labelled target="postgres", and
// the --postgres.* knobs parse.
func TestPostgresTargetFromFlag(t *testing.T) {
	pg := sharedPostgres(t)
	e := startExporter(t, "http", "--postgres.dsn="+pg.DSN("postgres"), "--postgres.top-tables=5", "--postgres.behind-column-ttl=1s")
	code, body := e.get(t, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`pg_up{target="postgres"} 1`,
		`redline_collector_success{collector="dead_tuples",target="postgres"} 1`,
		`redline_collector_success{collector="sequences",target="postgres"} 1`,
		`pg_settings_max_connections{target="postgres"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, pg.Password) {
		t.Error("the exposition contains the database password")
	}
}
