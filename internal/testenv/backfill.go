package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// backfill writes OpenMetrics text (ending in "# EOF") into a TSDB
// directory as blocks, with promtool tsdb create-blocks-from openmetrics:
// history for a Prometheus that has never scraped it.
func backfill(dataDir, openMetrics string) error {
	bin, err := LookPath("promtool")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	src := filepath.Join(filepath.Dir(dataDir), "backfill.om")
	if err := os.WriteFile(src, []byte(openMetrics), 0o644); err != nil {
		return err
	}
	out, err := exec.Command(bin, "tsdb", "create-blocks-from", "openmetrics", src, dataDir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	return nil
}
