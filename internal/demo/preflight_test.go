package demo

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen/spec"
)

// TestPreflightRoundFailureIsNotFatal: a round that Prometheus does not
// answer (on a loaded machine, its probe) is said and retried; the demo
// goes on after the wait instead of ending on the error.
func TestPreflightRoundFailureIsNotFatal(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "spec.yml"), spec.DefaultSpec, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing answers there
	s := &Stack{Prometheus: &testenv.Prometheus{}, RulegenBin: "bin/rulegen"}
	s.Prometheus.URL = "http://" + addr
	var out strings.Builder
	rep, err := s.Preflight(context.Background(), dir, "preflight-test", 3*time.Second, nil, &out)
	if err != nil || rep != nil {
		t.Fatalf("an unanswered preflight ends the demo: %v, %v\n%s", rep, err, out.String())
	}
	if !strings.Contains(out.String(), "preflight round failed (retrying)") || !strings.Contains(out.String(), "no preflight answered within 3s") {
		t.Errorf("the demo does not say what happened:\n%s", out.String())
	}
	if strings.Count(out.String(), "round failed") < 2 {
		t.Errorf("the failed round was not retried:\n%s", out.String())
	}
}
