package config

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// planted is the secret every hostile input hides somewhere a DSN could be
// pasted: no error may show it.
const planted = "Pl4ntedS3cret"

// hostileConfigs are inputs the third round of bad-input testing used:
// nesting far past any parser's comfort, bytes that are not UTF-8, control
// characters, unknown anchors, DSNs as keys and as file names, and probes
// with several problems at once.
func hostileConfigs() map[string][]byte {
	deep := func(open, close string, n int) []byte {
		return []byte("postgres: " + strings.Repeat(open, n) + "x" + strings.Repeat(close, n) + "\n")
	}
	var stairs strings.Builder
	stairs.WriteString("postgres:\n")
	for i := range 600 {
		stairs.WriteString(strings.Repeat(" ", i+1) + "a:\n")
	}
	return map[string][]byte{
		"flow sequences 12,000 deep":              deep("[", "]", 12000),
		"flow mappings 12,000 deep":               deep("{a: ", "}", 12000),
		"flow sequences 5,000 deep":               deep("[", "]", 5000),
		"unclosed flow 40,000 deep":               []byte("postgres: " + strings.Repeat("[", 40000) + "\n"),
		"block sequences on one line":             []byte("postgres:\n  " + strings.Repeat("- ", 12000) + "x\n"),
		"quote in a plain scalar hiding brackets": []byte("postgres: x '\nb: " + strings.Repeat("[", 40000) + "\n"),
		"quote in a plain scalar, flow after":     []byte("a: x \"\n" + strings.Repeat("{a: ", 12000) + "\n"),
		"indentation staircase":                   []byte(stairs.String()),
		"wide flow list, unclosed":                []byte("postgres: " + strings.Repeat("[", 60) + strings.Repeat("a, ", (MaxConfigBytes-80)/3)),
		"long list, error at the end":             []byte("postgres:\n" + strings.Repeat("  - a\n", (MaxConfigBytes-40)/6) + " bad: [\n"),
		"over the size bound":                     []byte("postgres:\n" + strings.Repeat("#", MaxConfigBytes)),
		"invalid UTF-8 in a value":                []byte("pgbouncer:\n  - name: a\n    dsn: postgres://u:" + planted + "@h/db\xff\n"),
		"invalid UTF-8 in a key":                  []byte("pgbouncer:\n  - na\xc3me: a\n"),
		"UTF-16 byte order mark":                  []byte("\xff\xfep\x00g\x00"),
		"control character":                       []byte("pgbouncer:\n  - name: a\x07b\n"),
		"NUL byte":                                []byte("postgres:\n  - name: a\n    dsn: \"x\x00\"\n"),
		"unknown anchor":                          []byte("pgbouncer:\n  - name: a\n    dsn: *postgres://u:" + planted + "@h/db\n"),
		"DSN as a key":                            []byte("pgbouncer:\n  - name: a\n    postgres://u:" + planted + "@h:6432/pgbouncer: x\n"),
		"keyword DSN as a key":                    []byte("postgres:\n  - name: a\n    dsn: x\n    host=h password=" + planted + ": 1\n"),
		"DSN as a top-level key":                  []byte("postgres://admin:" + planted + "@db:5432/app:\n  - name: a\n"),
		"DSN as dsn_file":                         []byte("postgres:\n  - name: a\n    dsn_file: postgres://u:" + planted + "@h:5432/db\n"),
		"keyword DSN as dsn_file":                 []byte("postgres:\n  - name: a\n    dsn_file: host=h password=" + planted + " dbname=x\n"),
		"user:password@host as dsn_file":          []byte("postgres:\n  - name: a\n    dsn_file: u:" + planted + "@h/db\n"),
		"probe with three problems": []byte("probes:\n  - name: api\n    url: ftp://u:" + planted + "@h/\n    interval: 1us\n" +
			"    headers:\n      \"bad name\": x\n"),
		"header probe with two problems": []byte("headers:\n  - name: web\n    url: http://h/?token=" + planted + "\n    interval: 1ms\n" +
			"    require:\n      \"bad name\": \"(\"\n"),
		"empty":         {},
		"comments only": []byte("# nothing\n# here\n"),
		"null list":     []byte("pgbouncer:\n"),
		"empty list":    []byte("postgres: []\n"),
		"empty mapping": []byte("{}\n"),
	}
}

// located is one error line: file:line:col: message.
func located(t *testing.T, file, msg string) {
	t.Helper()
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(file) + `:\d+:\d+: \S`)
	for _, line := range strings.Split(msg, "\n") {
		if !re.MatchString(line) {
			t.Errorf("error line without file:line:col: %q", line)
		}
	}
}

// checkLoad loads data from a file and checks what every rejection must
// be: located, without the planted secret, within bounded memory and time.
func checkLoad(t *testing.T, data []byte) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// TotalAlloc counts every allocation, so no GC is needed around it.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := Load(file, Flags{})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	// The bound that matters is the process staying within a few MB of
	// where it was; what the load allocates in all is an upper bound of
	// that. goccy alone took 225 MB on the 12,000-level file.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("load allocated %d MB", alloc>>20)
	}
	// Generous: the point is that nothing hangs, on a loaded machine too.
	if took > 15*time.Second {
		t.Errorf("load took %s", took)
	}
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), planted) {
		t.Errorf("error shows the planted secret:\n%s", err)
	}
	located(t, file, err.Error())
}

// FuzzLoad feeds arbitrary files to Load: a file is accepted or rejected
// with every error line at file:line:col, never showing a DSN's password
// and in bounded memory. `go test` runs the seeds: the hostile inputs and
// mutations of a valid file.
func FuzzLoad(f *testing.F) {
	for _, data := range hostileConfigs() {
		f.Add(data)
	}
	f.Add([]byte(validConfig))
	f.Fuzz(func(t *testing.T, data []byte) { checkLoad(t, data) })
}

const validConfig = "pgbouncer:\n  - name: a\n    dsn: postgres://u:" + planted + "@127.0.0.1:6432/pgbouncer\n" +
	"postgres:\n  - name: b\n    dsn: \"host=127.0.0.1 password=" + planted + "\"\n    databases: [app]\n    max_connections: 2\n" +
	"probes:\n  - name: api\n    url: http://u:" + planted + "@127.0.0.1:1/loop?token=" + planted + "\n    headers: {Authorization: \"Bearer " + planted + "\"}\n" +
	"headers:\n  - name: web\n    url: http://127.0.0.1:1/?token=" + planted + "\n    follow_redirects: true\n"

func TestLoadHostileConfigs(t *testing.T) {
	for name, data := range hostileConfigs() {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yml")
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(file, Flags{}); err == nil {
				t.Fatal("accepted")
			}
			checkLoad(t, data)
		})
	}
}

// TestLoadMutatedConfigs is a fixed-seed fuzz run over mutations of a valid
// file (bytes flipped, dropped, duplicated, special bytes planted), the way
// the testers' 300 fuzzed files were made.
func TestLoadMutatedConfigs(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 3))
	special := []string{"\xff", "\x00", "\x07", "[", "{", ": ", "- ", "*a", "&a", "\t", "\"", "'", "\n  ", "|\n", "!!binary "}
	for i := range 300 {
		data := []byte(validConfig)
		for range 1 + rng.IntN(4) {
			at := rng.IntN(len(data))
			switch rng.IntN(4) {
			case 0:
				data[at] ^= byte(1 << rng.IntN(8))
			case 1:
				data = append(data[:at:at], data[min(len(data), at+1+rng.IntN(8)):]...)
			case 2:
				data = slicesInsert(data, at, []byte(special[rng.IntN(len(special))]))
			default:
				data = slicesInsert(data, at, bytes.Repeat([]byte(special[rng.IntN(5)]), 1+rng.IntN(3000)))
			}
		}
		if !t.Run("", func(t *testing.T) { checkLoad(t, data) }) {
			t.Logf("mutation %d:\n%q", i, data)
		}
	}
}

func slicesInsert(b []byte, at int, ins []byte) []byte {
	return append(b[:at:at], append(ins, b[at:]...)...)
}

// Special files: a FIFO would block the load until a writer came (it
// blocked --config.check for good), /dev/zero would be read until the
// process died, a directory or a huge file is a mistake. Each is refused at
// once, naming the file.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), MaxSecretBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, want string }{
		{fifo, "not a regular file (a named pipe)"},
		{"/dev/zero", "not a regular file (a character device)"},
		{dir, "not a regular file (a directory)"},
		{big, "larger than 65536 bytes"},
	} {
		cfgFile := filepath.Join(dir, "c.yml")
		writeTestFile(t, cfgFile, "postgres:\n  - name: a\n    dsn_file: "+tc.file+"\n")
		for name, load := range map[string]func() error{
			"dsn_file": func() error { _, err := Load(cfgFile, Flags{}); return err },
			"--postgres.dsn-file": func() error {
				_, err := Load("", Flags{PostgresDSNFile: tc.file})
				return err
			},
			"--pgbouncer.dsn-file": func() error {
				_, err := Load("", Flags{PgBouncerDSNFile: tc.file})
				return err
			},
			"--eventloop.url-file": func() error {
				_, err := Load("", Flags{EventloopURLFile: tc.file})
				return err
			},
			"--config.file": func() error { _, err := Load(tc.file, Flags{}); return err },
		} {
			if name == "--config.file" && tc.file == big {
				continue // under the config file's own bound
			}
			done := make(chan error, 1)
			go func() { done <- load() }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "cannot read "+tc.file+": "+tc.want) {
					t.Errorf("%s %s: %v", name, tc.file, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s %s: load still blocked after 10s", name, tc.file)
			}
		}
	}
	huge := filepath.Join(dir, "huge.yml")
	if err := os.WriteFile(huge, append([]byte("# "), bytes.Repeat([]byte("x"), MaxConfigBytes)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(huge, Flags{}); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("larger than %d bytes", MaxConfigBytes)) {
		t.Errorf("config file over the bound: %v", err)
	}
}

// A DSN put where a file name belongs: the error names the file with the
// password redacted, for the file's key and each flag, and names the flag
// that was given.
func TestFileNameErrorsRedactDSNs(t *testing.T) {
	for _, name := range []string{
		"postgres://u:" + planted + "@h:5432/db",
		"postgresql://u:" + planted + "@h/db?sslmode=verify-full",
		"host=h user=u password=" + planted + " dbname=db",
		"http://u:" + planted + "@h/loop",
		"u:" + planted + "@h/db",
	} {
		cfgFile := filepath.Join(t.TempDir(), "c.yml")
		writeTestFile(t, cfgFile, "postgres:\n  - name: a\n    dsn_file: '"+name+"'\n")
		for label, load := range map[string]func() error{
			cfgFile + ":2:5: target \"a\": dsn_file: cannot read ": func() error { _, err := Load(cfgFile, Flags{}); return err },
			"--postgres.dsn-file: target \"postgres\": dsn_file: cannot read ": func() error {
				_, err := Load("", Flags{PostgresDSNFile: name})
				return err
			},
			"--pgbouncer.dsn-file: target \"pgbouncer\": dsn_file: cannot read ": func() error {
				_, err := Load("", Flags{PgBouncerDSNFile: name})
				return err
			},
			"config: --eventloop.url-file: cannot read ": func() error {
				_, err := Load("", Flags{EventloopURLFile: name})
				return err
			},
			"config: cannot read ": func() error { _, err := Load(name, Flags{}); return err },
		} {
			err := load()
			if err == nil {
				t.Fatalf("%s: no error", label)
			}
			if msg := err.Error(); strings.Contains(msg, planted) || !strings.Contains(msg, label) || !strings.Contains(msg, "xxxxx") {
				t.Errorf("%q: error %q, want %q and the password redacted", name, msg, label)
			}
		}
	}
}

// Check, start and reload share Load; a configuration with nothing to
// serve is an error there, whatever form the emptiness takes.
func TestLoadRefusesEmptyConfigs(t *testing.T) {
	for _, data := range []string{"", "# only a comment\n", "pgbouncer:\n", "postgres: []\n", "{}\n", "probes: []\nheaders:\n"} {
		file := filepath.Join(t.TempDir(), "c.yml")
		writeTestFile(t, file, data)
		if _, err := Load(file, Flags{}); err == nil || !strings.Contains(err.Error(), file+":1:1: no targets configured") {
			t.Errorf("%q: %v", data, err)
		}
	}
	if _, err := Load("", Flags{}); err == nil || !strings.Contains(err.Error(), "no targets configured") {
		t.Errorf("no file, no flags: %v", err)
	}
}

// The depth scan never refuses a file of this schema for what only looks
// like nesting: dashes, colons and brackets inside values, block scalars,
// comments and quoted text.
func TestDepthScanAcceptsRealFiles(t *testing.T) {
	var b strings.Builder
	b.WriteString("# " + strings.Repeat("[{- ", 100) + "\n")
	b.WriteString("postgres:\n")
	for i := range 200 {
		fmt.Fprintf(&b, "  - name: db%d # a comment: with - dashes [ and {\n    dsn: 'host=h%d application_name=%s'\n    databases: [a, b, \"c[d\"]\n", i, i, strings.Repeat("[", 80))
	}
	b.WriteString("headers:\n  - name: web\n    url: http://127.0.0.1/a[1]?x=" + strings.Repeat("- ", 100) + "\n    require:\n      Content-Security-Policy: |\n" +
		strings.Repeat("        "+strings.Repeat(`- \[ \{ `, 30)+"\n", 20) + "      X-Frame-Options: DENY\n")
	cfg, err := Parse("f.yml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Postgres) != 200 || len(cfg.HeaderProbes) != 1 || len(cfg.HeaderProbes[0].Require) != 2 {
		t.Errorf("parsed %d targets, %d header probes", len(cfg.Postgres), len(cfg.HeaderProbes))
	}
}
