package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// packages maps each binary we start to the Debian package that ships it, so
// that a missing binary is reported with the fix.
var packages = map[string]string{
	"initdb":                  "postgresql",
	"postgres":                "postgresql",
	"pgbouncer":               "pgbouncer",
	"prometheus":              "prometheus",
	"promtool":                "prometheus",
	"prometheus-alertmanager": "prometheus-alertmanager",
	"alertmanager":            "prometheus-alertmanager",
	"amtool":                  "prometheus-alertmanager",
	"victoria-metrics":        "victoria-metrics",
	"vmalert":                 "victoria-metrics",
}

// MissingBinaryError says which program could not be found and how to get it.
type MissingBinaryError struct {
	Name    string
	Package string
}

func (e *MissingBinaryError) Error() string {
	return fmt.Sprintf("%s not found on PATH (install the Debian package %q, or run `make deps`)", e.Name, e.Package)
}

// LookPath finds a binary. PostgreSQL's server binaries are not on PATH on
// Debian: they are taken from the newest /usr/lib/postgresql/<ver>/bin. Alertmanager is installed as prometheus-alertmanager on Debian
// and as alertmanager elsewhere; either name is accepted.
func LookPath(name string) (string, error) {
	// PostgreSQL's programs come from one directory, the newest major
	// version's, so initdb and postgres never mix versions; PATH is the
	// fallback for installations outside Debian's layout.
	if packages[name] == "postgresql" {
		if dir := chosenPostgresBinDir(); dir != "" {
			// A chosen version never falls back to another one: a
			// compatibility run that silently tested Debian's server would
			// pass for the wrong reason.
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s not found in %s (REDLINE_PG_BIN; `make compat-deps` installs the versions of the matrix)", name, dir)
			}
			return p, nil
		}
		if dir := newestPostgresBinDir(); dir != "" {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	candidates := []string{name}
	if name == "alertmanager" {
		candidates = append(candidates, "prometheus-alertmanager")
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	pkg := packages[name]
	if pkg == "" {
		pkg = name
	}
	return "", &MissingBinaryError{Name: name, Package: pkg}
}

// chosenPostgresBinDir is the PostgreSQL bin directory named by
// REDLINE_PG_BIN (REDLINE_PG_BINDIR is its older spelling), or "": the
// compatibility matrix (make compat) runs the suites once per version this
// way.
func chosenPostgresBinDir() string {
	if dir := os.Getenv("REDLINE_PG_BIN"); dir != "" {
		return dir
	}
	return os.Getenv("REDLINE_PG_BINDIR")
}

// newestPostgresBinDir returns Debian's bin directory of the newest installed
// PostgreSQL major version, or "" when there is none.
func newestPostgresBinDir() string {
	entries, err := os.ReadDir("/usr/lib/postgresql")
	if err != nil {
		return ""
	}
	var versions []int
	for _, e := range entries {
		if v, err := strconv.Atoi(e.Name()); err == nil {
			versions = append(versions, v)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(versions)))
	for _, v := range versions {
		dir := filepath.Join("/usr/lib/postgresql", strconv.Itoa(v), "bin")
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir
		}
	}
	return ""
}

// InCI reports whether we run under CI, where a missing binary is a failure
// rather than a reason to skip.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// Binary returns the path of a required binary for a test. When it is
// missing the test fails under CI and is skipped elsewhere.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p, err := LookPath(name)
	if err != nil {
		missing(t, err)
	}
	return p
}

// missing ends a test whose component could not start because a binary is
// absent: a failure in CI (never a silent skip), a skip on a developer's
// machine without the package. Any other error is a failure.
func missing(t testing.TB, err error) {
	t.Helper()
	var mb *MissingBinaryError
	if errors.As(err, &mb) && !InCI() {
		t.Skip(err)
	}
	t.Fatal(err)
}

// forTest hands a started component to a test and stops it when the test
// ends; a start error ends the test (see missing).
func forTest[T interface{ Stop() error }](t testing.TB, c T, err error) T {
	t.Helper()
	if err != nil {
		missing(t, err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}
