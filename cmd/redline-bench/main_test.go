package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReportReplacesOnlyTheMarkedSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	doc := "# Benchmarks\n\nintro\n\n" + beginMarker + "\nold table\n" + endMarker + "\n\nhistory\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeReport(path, "new table\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# Benchmarks\n\nintro\n\n" + beginMarker + "\nnew table\n" + endMarker + "\n\nhistory\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	// Without markers (or without the file) the report is the file.
	bare := filepath.Join(t.TempDir(), "bare.md")
	if err := writeReport(bare, "table\n"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(bare); string(got) != "table\n" {
		t.Errorf("bare file = %q", got)
	}
}
