package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/exporter/eventloop"
)

func TestParseFullExample(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "dsn")
	if err := os.WriteFile(secret, []byte("postgres://u:s3cret@db:5432/app\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "redline.yml")
	yml := `
pgbouncer:
  - name: bouncer-a
    dsn: postgres://stats:pw@127.0.0.1:6432/pgbouncer
  - name: bouncer-b
    dsn_file: ` + secret + `
    max_connections: 3
    connect_timeout: 2s
postgres:
  - name: primary
    dsn: postgres://u:pw@127.0.0.1:5432/app
    databases: [app, billing]
probes:
  - name: api
    url: http://127.0.0.1:3000/healthz
  - name: ws
    url: https://127.0.0.1:3001/ping
    interval: 100ms
    timeout: 2s
    max_in_flight: 8
    headers:
      X-Probe: redline
`
	if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, Flags{})
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		PgBouncer: []Target{
			{Kind: KindPgBouncer, Name: "bouncer-a", DSN: "postgres://stats:pw@127.0.0.1:6432/pgbouncer", Source: file + ":3:5"},
			{Kind: KindPgBouncer, Name: "bouncer-b", DSN: "postgres://u:s3cret@db:5432/app", DSNFile: secret, MaxConnections: 3, ConnectTimeout: 2 * time.Second, Source: file + ":5:5"},
		},
		Postgres: []Target{
			{Kind: KindPostgres, Name: "primary", DSN: "postgres://u:pw@127.0.0.1:5432/app", Databases: []string{"app", "billing"}, Source: file + ":10:5"},
		},
		Probes: []Probe{
			{ProbeConfig: eventloop.ProbeConfig{Name: "api", URL: "http://127.0.0.1:3000/healthz", Interval: 50 * time.Millisecond, Timeout: time.Second, MaxInFlight: 20}, Source: file + ":14:5"},
			{ProbeConfig: eventloop.ProbeConfig{Name: "ws", URL: "https://127.0.0.1:3001/ping", Interval: 100 * time.Millisecond, Timeout: 2 * time.Second, MaxInFlight: 8, Headers: map[string]string{"X-Probe": "redline"}}, Source: file + ":16:5"},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got\n%+v\nwant\n%+v", cfg, want)
	}
	if got := len(cfg.Targets()); got != 3 {
		t.Errorf("Targets() = %d entries, want 3", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yml, want string
	}{
		{"unknown top key", "pgbouncers: []\n", `f.yml:1:1: pgbouncers: unknown key "pgbouncers"; did you mean "pgbouncer"? (known keys: headers, pgbouncer, postgres, probes)`},
		{"unknown target key", "pgbouncer:\n  - name: a\n    dsn: x\n    pool: 3\n", `f.yml:4:5: pgbouncer[0].pool: unknown key "pool" (known keys: connect_timeout, dsn, dsn_file, max_connections, name)`},
		{"databases only for postgres", "pgbouncer:\n  - name: a\n    dsn: x\n    databases: [a]\n", `f.yml:4:5: pgbouncer[0].databases: unknown key "databases" (known keys: connect_timeout, dsn, dsn_file, max_connections, name)`},
		{"missing name", "postgres:\n  - dsn: x\n", `f.yml:2:5: postgres[0]: missing key "name"`},
		{"missing dsn", "postgres:\n  - name: a\n", `f.yml:2:5: postgres[0]: one of "dsn" or "dsn_file" is required`},
		{"both dsn", "postgres:\n  - name: a\n    dsn: x\n    dsn_file: y\n", `f.yml:2:5: postgres[0]: set only one of "dsn" and "dsn_file"`},
		{"bad max", "pgbouncer:\n  - name: a\n    dsn: x\n    max_connections: -1\n", `f.yml:4:22: pgbouncer[0].max_connections: must be an integer from 1 to 20`},
		{"too many connections", "pgbouncer:\n  - name: a\n    dsn: x\n    max_connections: 5000000000\n", `f.yml:4:22: pgbouncer[0].max_connections: must be an integer from 1 to 20`},
		{"bad duration", "probes:\n  - name: a\n    url: http://x\n    interval: fast\n", `f.yml:4:15: probes[0].interval: invalid duration (use a number and one of ms, s, m, h, d, w, y)`},
		{"bad url", "probes:\n  - name: a\n    url: ftp://u:secret@x\n", `f.yml:2:5: probes[0]: eventloop probe "a": url must start with http:// or https://`},
		{"bad header name", "probes:\n  - name: a\n    url: http://x\n    headers: {'Bad Header': v}\n", `f.yml:2:5: probes[0]: eventloop probe "a": invalid header name "Bad Header"`},
		{"bad header value", "probes:\n  - name: a\n    url: http://x\n    headers: {Authorization: \"secret\\r\\nX: y\"}\n", `f.yml:2:5: probes[0]: eventloop probe "a": header "Authorization": value contains a line break or NUL`},
		{"tiny interval", "probes:\n  - name: a\n    url: http://x\n    interval: 1us\n", `f.yml:2:5: probes[0]: eventloop probe "a": interval must be at least 1ms`},
		{"scalar for list", "probes: http://u:secret@x\n", `f.yml:1:9: probes: expected a list, got a string`},
		{"missing url", "probes:\n  - name: a\n", `f.yml:2:5: probes[0]: missing key "url"`},
		{"not a list", "pgbouncer: {name: a}\n", `f.yml:1:12: pgbouncer: expected a list, got a mapping`},
		{"bad name", "pgbouncer:\n  - name: 'a b'\n    dsn: x\n", `f.yml:2:11: pgbouncer[0].name: must be a name of letters, digits, _ . : - (not starting with . : -)`},
		{"duplicate key", "pgbouncer:\n  - name: a\n    name: b\n    dsn: x\n", `f.yml:3:5: pgbouncer[0].name: duplicate key "name"`},
		{"headers list", "probes:\n  - name: a\n    url: http://x\n    headers: [a]\n", `f.yml:4:14: probes[0].headers: expected a mapping, got a list`},
		{"typo", "postgres:\n  - name: a\n    dsn: x\n    max_conections: 2\n", `f.yml:4:5: postgres[0].max_conections: unknown key "max_conections"; did you mean "max_connections"? (known keys: connect_timeout, databases, dsn, dsn_file, max_connections, name)`},
		{"syntax", "pgbouncer: [\n", `f.yml:1:12: YAML syntax: sequence end token ']' not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yml", []byte(tc.yml))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %q\nwant %q", err.Error(), tc.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks a credential: %q", err)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("f.yml", []byte("pgbouncer:\n  - name: a\n    bogus: 1\npostgres:\n  - name: b\n"))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`f.yml:3:5: pgbouncer[0].bogus: unknown key "bogus"`, `f.yml:2:5: pgbouncer[0]: one of`, `f.yml:5:5: postgres[0]: one of`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLoadFlags(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "pg")
	if err := os.WriteFile(secret, []byte("postgres://u:pw@h/db"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("", Flags{PgBouncerDSN: "postgres://a:b@h:6432/pgbouncer", PostgresDSNFile: secret, EventloopURL: "http://127.0.0.1:8080/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.PgBouncer) != 1 || cfg.PgBouncer[0].Name != FlagPgBouncerName || cfg.PgBouncer[0].MaxConnections != 0 {
		t.Errorf("pgbouncer = %+v", cfg.PgBouncer)
	}
	if len(cfg.Postgres) != 1 || cfg.Postgres[0].Name != FlagPostgresName || cfg.Postgres[0].DSN != "postgres://u:pw@h/db" {
		t.Errorf("postgres = %+v", cfg.Postgres)
	}
	if len(cfg.Probes) != 1 || cfg.Probes[0].Name != FlagProbeName || cfg.Probes[0].Interval != eventloop.DefaultInterval {
		t.Errorf("probes = %+v", cfg.Probes)
	}
	// --eventloop.name gives the probe the name a spec selects.
	cfg, err = Load("", Flags{EventloopURL: "http://127.0.0.1:8080/", EventloopName: "platform"})
	if err != nil || len(cfg.Probes) != 1 || cfg.Probes[0].Name != "platform" {
		t.Errorf("named flag probe: %+v, %v", cfg.Probes, err)
	}
}

func TestLoadConflicts(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yml")
	if err := os.WriteFile(file, []byte("pgbouncer:\n  - name: pgbouncer\n    dsn: x\npostgres:\n  - name: db\n    dsn_file: "+filepath.Join(dir, "missing")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file, Flags{PgBouncerDSN: "y"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`--pgbouncer.dsn: target name "pgbouncer" is already used at ` + file + `:2:5`,
		file + `:5:5: target "db": dsn_file: cannot read ` + filepath.Join(dir, "missing") + `: no such file or directory`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := Load("", Flags{PgBouncerDSN: "x", PgBouncerDSNFile: "y"}); err == nil {
		t.Error("both --pgbouncer.dsn and its file: no error")
	}
	if _, err := Load(filepath.Join(dir, "nope.yml"), Flags{}); err == nil {
		t.Error("missing config file: no error")
	}
	if _, err := Load("", Flags{EventloopURL: "http://h/", EventloopURLFile: "y"}); err == nil {
		t.Error("both --eventloop.url and its file: no error")
	}
	urlFile := filepath.Join(dir, "url")
	if err := os.WriteFile(urlFile, []byte("ftp://u:s3cret@h/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load("", Flags{EventloopURLFile: urlFile}); err == nil || strings.Contains(err.Error(), "s3cret") ||
		!strings.Contains(err.Error(), "--eventloop.url-file: eventloop probe \"platform\": url must start with") {
		t.Errorf("bad URL in --eventloop.url-file: %v", err)
	}
	if err := os.WriteFile(urlFile, []byte("http://u:s3cret@h/loop\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("", Flags{EventloopURLFile: urlFile})
	if err != nil || len(cfg.Probes) != 1 || cfg.Probes[0].URL != "http://u:s3cret@h/loop" {
		t.Errorf("--eventloop.url-file: %v, %+v", err, cfg)
	}
	// The header probe's page, from a file as the Deployment passes it.
	if _, err := Load("", Flags{HeadersURL: "http://h/", HeadersURLFile: urlFile}); err == nil {
		t.Error("both --headers.url and its file: no error")
	}
	cfg, err = Load("", Flags{HeadersURLFile: urlFile})
	if err != nil || len(cfg.HeaderProbes) != 1 || cfg.HeaderProbes[0].URL != "http://u:s3cret@h/loop" || cfg.HeaderProbes[0].Name != FlagProbeName {
		t.Errorf("--headers.url-file: %v, %+v", err, cfg)
	}
	if _, err := Load("", Flags{HeadersURLFile: filepath.Join(dir, "none")}); err == nil || !strings.Contains(err.Error(), "--headers.url-file") {
		t.Errorf("missing --headers.url-file: %v", err)
	}
}

func TestTargetLogValueHidesDSN(t *testing.T) {
	v := Target{Kind: KindPgBouncer, Name: "a", DSN: "postgres://u:hunter2@h/db"}.LogValue()
	if strings.Contains(v.String(), "hunter2") {
		t.Errorf("LogValue leaks the DSN: %s", v)
	}
}

func TestInvalidDSNDoesNotLeakPassword(t *testing.T) {
	_, err := Load("", Flags{PgBouncerDSN: "postgres://u:hunter2@h:notaport/pgbouncer"})
	if err == nil {
		t.Fatal("no error for a DSN with a bad port")
	}
	if !strings.Contains(err.Error(), `--pgbouncer.dsn: target "pgbouncer": invalid pgbouncer DSN`) {
		t.Errorf("error %q does not say which DSN is invalid", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error leaks the password: %q", err)
	}
}

// The exact inputs a review found leaking: a DSN where a list belongs (the
// type error used to quote the value) and a keyword DSN whose password pgx
// fails to mask.
func TestErrorsNeverShowPasswords(t *testing.T) {
	const secret = "S3cret"
	if _, err := Parse("f.yml", []byte(`pgbouncer: "postgres://u:`+secret+`@h/pgbouncer"`)); err == nil {
		t.Error("a DSN in place of the pgbouncer list was accepted")
	} else if msg := err.Error(); strings.Contains(msg, secret) || !strings.Contains(msg, "f.yml:1:12: pgbouncer: expected a list") {
		t.Errorf("type error: %s", msg)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yml")
	if err := os.WriteFile(file, []byte("pgbouncer:\n  - name: a\n    dsn: host=h password = "+secret+" port=abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, load := range []func() error{
		func() error { _, err := Load(file, Flags{}); return err },
		func() error {
			_, err := Load("", Flags{PostgresDSN: "host=h password = " + secret + " port=abc"})
			return err
		},
	} {
		err := load()
		if err == nil {
			t.Fatal("a DSN with a bad port was accepted")
		}
		if msg := err.Error(); strings.Contains(msg, secret) || !strings.Contains(msg, "invalid port") {
			t.Errorf("invalid DSN error: %s", msg)
		}
	}
}

// The DSN a user wrote with an unencoded '@' in the password: it used to
// pass, and every scrape then logged the password's tail as a host name.
func TestLoadRefusesUnencodedAtInDSN(t *testing.T) {
	const leak = "cdLeak"
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yml")
	writeTestFile(t, file, "postgres:\n  - name: db\n    dsn: \"postgres://redline_exporter:ab@"+leak+"@127.0.0.1:5432/postgres\"\n")
	for name, load := range map[string]func() error{
		"file": func() error { _, err := Load(file, Flags{}); return err },
		"--pgbouncer.dsn": func() error {
			_, err := Load("", Flags{PgBouncerDSN: "postgres://s:ab@" + leak + "@127.0.0.1:6432/pgbouncer"})
			return err
		},
	} {
		err := load()
		if err == nil {
			t.Errorf("%s: a DSN with an unencoded '@' was accepted", name)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, leak) || !strings.Contains(msg, "percent-encode it as %40") {
			t.Errorf("%s: error %q", name, msg)
		}
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A value under the wrong key (a DSN as max_connections) or a bad one of
// any type: the error names the key and the type it takes, never the value.
func TestErrorsNameKeyAndTypeNotValue(t *testing.T) {
	const secret = "Hunter2Secret"
	yml := "postgres:\n" +
		"  - name: db\n" +
		"    dsn: postgres://u:pw@127.0.0.1/db\n" +
		"    max_connections: postgres://u:" + secret + "@127.0.0.1/db\n" +
		"    connect_timeout: " + secret + "\n" +
		"probes:\n" +
		"  - name: \"" + secret + " x\"\n" +
		"    url: http://127.0.0.1/\n" +
		"    interval: " + secret + "\n" +
		"    max_in_flight: " + secret + "\n"
	_, err := Parse("f.yml", []byte(yml))
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.Contains(msg, secret) {
		t.Errorf("error quotes a value:\n%s", msg)
	}
	for _, want := range []string{
		"f.yml:4:22: postgres[0].max_connections: must be an integer from 1 to 20",
		"f.yml:5:22: postgres[0].connect_timeout: invalid duration (use a number and one of ms, s, m, h, d, w, y)",
		"f.yml:7:11: probes[0].name: must be a name of",
		"f.yml:9:15: probes[0].interval: invalid duration",
		"f.yml:10:20: probes[0].max_in_flight: must be a positive integer",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}

// Every problem of a file in one run: the key errors, and those that only
// the whole configuration shows (a duplicate name, a missing dsn_file, a
// name the flags also use), which used to appear only once the key errors
// were fixed.
func TestLoadReportsEveryProblemInOnePass(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yml")
	missing := filepath.Join(dir, "missing")
	writeTestFile(t, file, "pgbouncer:\n"+
		"  - name: a\n"+
		"    dsn: postgres://u:pw@127.0.0.1/pgbouncer\n"+
		"    pool_size: 3\n"+
		"  - name: a\n"+
		"    dsn_file: "+missing+"\n"+
		"postgres:\n"+
		"  - name: postgres\n"+
		"    dsn: postgres://u:pw@127.0.0.1/db\n"+
		"    connect_timeout: soon\n")
	_, err := Load(file, Flags{PostgresDSN: "postgres://u:pw@127.0.0.1/db"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		file + `:4:5: pgbouncer[0].pool_size: unknown key "pool_size"`,
		file + `:10:22: postgres[0].connect_timeout: invalid duration`,
		file + `:5:5: target name "a" is already used at ` + file + `:2:5`,
		file + `:5:5: target "a": dsn_file: cannot read ` + missing,
		`--postgres.dsn: target name "postgres" is already used at ` + file + `:8:5`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}

// A YAML syntax error is reported where the mistake is, as file:line:col:
// yaml.v3 alone names the line its enclosing construct began on.
func TestSyntaxErrorsAtLineAndColumn(t *testing.T) {
	for _, tc := range []struct{ name, yml, want string }{
		{"bad indentation on line 4", "pgbouncer:\n  - name: a\n    dsn: x\n   bad: [\n", "f.yml:4:4: YAML syntax: "},
		{"key without value on line 4", "pgbouncer:\n  - name: a\n    dsn: x\n  bad\n", "f.yml:4:3: YAML syntax: "},
		{"tab on line 2", "pgbouncer:\n\t- name: a\n", "f.yml:2:1: YAML syntax: "},
		{"unclosed quote", "pgbouncer:\n  - name: a\n    dsn: \"postgres://u:Hunter2Secret@h/x\n", "f.yml:3:10: YAML syntax: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yml", []byte(tc.yml))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %q, want it to start %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "Hunter2Secret") {
				t.Errorf("error quotes the file: %q", err)
			}
		})
	}
}
