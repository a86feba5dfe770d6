package bench

import (
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Version asks a binary for its version line ("--version").
func Version(bin string) string {
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// TableQueries writes postgres_exporter's per-table queries (the
// pg_stat_user_tables and pg_statio_user_tables sections of the queries.yaml
// Debian ships as an example) to dir, for a like-for-like comparison of the
// dead-tuple signal.
func TableQueries(examples, dir string) (string, error) {
	b, err := os.ReadFile(examples)
	if err != nil {
		return "", err
	}
	var all map[string]any
	if err := yaml.Unmarshal(b, &all); err != nil {
		return "", err
	}
	keep := map[string]any{}
	for _, k := range []string{"pg_stat_user_tables", "pg_statio_user_tables"} {
		if v, ok := all[k]; ok {
			keep[k] = v
		}
	}
	out, err := yaml.Marshal(keep)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "postgres_exporter_queries.yaml")
	return path, os.WriteFile(path, out, 0o644)
}

// FormatBytes prints a size in MiB with one decimal.
func FormatBytes(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// RootOf is the landing page of a scrape URL: where to wait for an
// exporter to start, since its first scrape may be slow.
func RootOf(scrapeURL string) string {
	if u, err := neturl.Parse(scrapeURL); err == nil {
		u.Path, u.RawQuery = "/", ""
		return u.String()
	}
	return scrapeURL
}
