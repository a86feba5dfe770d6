package main

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBadReloadsKeepTheRunningConfig feeds a running exporter the files
// the third round of bad-input testing reloaded: files with nothing to
// serve (they used to answer 200 and drop every target), deep nesting
// (60 KB took the process from 53 MB to 1.44 GB), special files as
// dsn_file (a FIFO hung the reload and /-/ready) and a DSN as a file name
// (its password came back in the 500 body and the log). Each is refused at
// once, the target keeps serving, the reload metric says 0, the process
// stays within a few MB, and no password shows.
func TestBadReloadsKeepTheRunningConfig(t *testing.T) {
	const secret = "R3loadS3cret"
	pb := newPgBouncer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "redline.yml")
	dsnFile := filepath.Join(dir, "dsn")
	writeFile(t, dsnFile, pb.StatsDSN())
	good := "pgbouncer:\n  - name: keep\n    dsn_file: " + dsnFile + "\n"
	writeFile(t, file, good)
	e := startExporter(t, "http", "--config.file="+file)
	metrics := func() string {
		_, body := e.get(t, "/metrics")
		return body
	}
	if m := metrics(); !strings.Contains(m, `pgbouncer_up{target="keep"} 1`) {
		t.Fatalf("first config not served:\n%s", m)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	target := func(key, value string) string { return "pgbouncer:\n  - name: keep\n    " + key + ": " + value + "\n" }
	deep := "pgbouncer: " + strings.Repeat("[", 60000) + "\n"
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tc := range []struct{ name, file, want string }{
		{"empty file", "", "no targets configured"},
		{"comments only", "# all gone\n", "no targets configured"},
		{"null list", "pgbouncer:\n", "no targets configured"},
		{"empty list", "postgres: []\n", "no targets configured"},
		{"empty mapping", "{}\n", "no targets configured"},
		{"60 KB nested 60,000 deep", deep, "nested deeper than 64 levels"},
		{"FIFO as dsn_file", target("dsn_file", fifo), "not a regular file (a named pipe)"},
		{"/dev/zero as dsn_file", target("dsn_file", "/dev/zero"), "not a regular file (a character device)"},
		{"DSN as dsn_file", target("dsn_file", "postgres://u:"+secret+"@127.0.0.1:6432/pgbouncer"), "cannot read postgres://xxxxx@127.0.0.1:6432/pgbouncer: no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, file, tc.file)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			resp, err := client.Post(e.URL+"/-/reload", "", nil)
			if err != nil {
				t.Fatalf("POST /-/reload: %v", err)
			}
			body := readAll(t, resp)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("reload took %s", took)
			}
			if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, tc.want) || strings.Contains(body, secret) {
				t.Errorf("POST /-/reload: %d %q, want 500 saying %q", resp.StatusCode, body, tc.want)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 16<<20 {
				t.Errorf("heap grew by %d MB", grown>>20)
			}
			if code, _ := e.get(t, "/-/ready"); code != 200 {
				t.Errorf("/-/ready: %d", code)
			}
			m := metrics()
			if !strings.Contains(m, `pgbouncer_up{target="keep"} 1`) || !strings.Contains(m, "redline_config_last_reload_successful 0") {
				t.Errorf("the running target must stay and the failed reload show:\n%s", m)
			}
		})
	}
	// SIGHUP takes the same path; the 200 KB file ended the process out of
	// memory after 11 s.
	writeFile(t, file, "pgbouncer: "+strings.Repeat("{a: ", 50000)+"\n")
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.stderr.String(), "nested deeper than 64 levels") {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP reload not logged:\n%s", e.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 16<<20 {
		t.Errorf("heap grew by %d MB after the SIGHUP reload", grown>>20)
	}
	if m := metrics(); !strings.Contains(m, `pgbouncer_up{target="keep"} 1`) {
		t.Errorf("target gone after the SIGHUP reload:\n%s", m)
	}
	if strings.Contains(e.stderr.String(), secret) {
		t.Errorf("the log shows the password:\n%s", e.stderr)
	}
	writeFile(t, file, good)
	if code, body := e.post(t, "/-/reload"); code != 200 {
		t.Errorf("good file after the bad ones: %d %s", code, body)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// --config.check with a DSN where a file name belongs, and with a FIFO:
// the password stays out of the output and the check ends at once (a FIFO
// blocked it for good, deaf to SIGTERM).
func TestConfigCheckOfBadFileNames(t *testing.T) {
	const secret = "Ch3ckS3cret"
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--postgres.dsn-file=postgres://u:" + secret + "@db:5432/app"}, "--postgres.dsn-file: target \"postgres\": dsn_file: cannot read postgres://xxxxx@db:5432/app"},
		{[]string{"--pgbouncer.dsn-file=postgres://u:" + secret + "@db:6432/pgbouncer"}, "--pgbouncer.dsn-file: target \"pgbouncer\": dsn_file: cannot read postgres://xxxxx@db:6432/pgbouncer"},
		{[]string{"--eventloop.url-file=http://u:" + secret + "@app/loop"}, "--eventloop.url-file: cannot read http://xxxxx@app/loop"},
		{[]string{"--postgres.dsn-file=" + fifo}, "not a regular file (a named pipe)"},
		{[]string{"--config.file=" + fifo}, "not a regular file (a named pipe)"},
	} {
		var out, errOut strings.Builder
		done := make(chan int, 1)
		go func() { done <- run(t.Context(), append(tc.args, "--config.check"), &out, &errOut) }()
		select {
		case code := <-done:
			if code != 1 || !strings.Contains(errOut.String(), tc.want) || strings.Contains(errOut.String(), secret) {
				t.Errorf("%v: exit %d\n%s\nwant %q", tc.args, code, errOut.String(), tc.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: --config.check still running after 10s", tc.args)
		}
	}
}
