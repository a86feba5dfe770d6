package headers

import (
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

// Each interval's request against a target that drops SYNs used to leave
// its dial running after the request timed out; now the dial ends with it.
func TestDialsToASynDroppingTargetEndAtTheTimeout(t *testing.T) {
	addr := testenv.NeverAcceptingListener(t)
	count := func() int { return testenv.OpenFiles(t) }
	before := count()
	_, reg := startManager(t, nil, ProbeConfig{Name: "drop", URL: "http://" + addr + "/", Interval: MinInterval, Timeout: 200 * time.Millisecond}.WithDefaults())
	peak := 0
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		peak = max(peak, count()-before)
	}
	if peak > 2 {
		t.Errorf("%d more open files against a target that drops SYNs, want 1 (the probe's one dial)", peak)
	}
	if v := gauges(t, reg, "redline_http_header_probe_success")["probe=drop"]; v != 0 {
		t.Errorf("success %v, want 0", v)
	}
}
