package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"

	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/spec"
)

// Exit codes.
const (
	exitOK = 0
	// exitCheckFailed: generated files are stale, or their tests fail.
	exitCheckFailed = 1
	exitInvalid     = 2
	exitError       = 3
)

// Run executes rulegen with args (without the program name) and returns the
// exit code. Tests call it in-process.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New("rulegen", "Generate Prometheus rules, promtool tests, an Alertmanager rollback route and a Grafana dashboard from one spec.")
	// kingpin would os.Exit after --help or --version. Parsing must stop
	// there (going on, it printed the usage a second time): terminate
	// unwinds to parse, which returns the code.
	app.Terminate(func(code int) { panic(terminate(code)) })
	// --help and --version are asked for: stdout, once. Errors: stderr.
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.HelpFlag.Short('h')
	fillVersion()
	app.Version(version.Print("rulegen"))

	gen := app.Command("generate", "Write the generated files into --out.")
	genSpec := gen.Flag("spec", "Spec file, a directory of specs (one output set per service), or \""+platformSpec+"\" for the redline platform's built-in spec (without --spec: the platform's, inside this repository only).").PlaceHolder("FILE").String()
	genOut := gen.Flag("out", "Output directory.").Default(".").String()

	check := app.Command("check", "Fail when the generated files in --out are stale (exit 1, with a diff) or the spec is invalid (exit 2).")
	checkSpec := check.Flag("spec", "Spec file, a directory of specs, or \""+platformSpec+"\" (the default) for the redline platform's built-in spec.").PlaceHolder("FILE").String()
	checkOut := check.Flag("out", "Directory holding the generated files.").Default(".").String()

	test := app.Command("test", "Run promtool test rules on the generated tests in --out.")
	testOut := test.Flag("out", "Directory holding the generated files.").Default(".").String()
	testPromtool := test.Flag("promtool", "promtool binary.").Default("promtool").String()

	pf := preflightCommand(app)
	jf := judgeCommand(app)
	ev := evidenceCommands(app)
	sv := serveCommand(app, pf)

	initCmd := app.Command("init", "Print a spec to start from: the "+spec.DefaultName+" spec (the platform's), or with --minimal a small one for another service.")
	initMinimal := initCmd.Flag("minimal", "Print a minimal spec (a ratio and a latency signal, a trigger, an SLO, the route) instead of the platform's.").Bool()
	app.Command("version", "Print the version.")

	if len(args) == 0 {
		app.UsageWriter(stderr)
		app.Usage(nil)
		fmt.Fprintln(stderr, "rulegen: no command given")
		return exitInvalid
	}
	cmd, terminated, err := parse(app, goStyleFlags(args, longFlags(app)))
	if terminated >= 0 {
		return terminated // --help or --version was shown
	}
	if err != nil {
		fmt.Fprintf(stderr, "rulegen: %v\n", err)
		return exitInvalid
	}
	switch cmd {
	case "": // --help was shown
		return exitOK
	case gen.FullCommand():
		if *genSpec == "" {
			if in, why := inThisRepository(*genOut); !in {
				fmt.Fprintf(stderr, "rulegen generate: no --spec given, and %s is %s: give your service's spec (--spec FILE; `rulegen init --minimal > spec.yml` starts one), or --spec %s to write the redline platform's files\n", *genOut, why, platformSpec)
				return exitInvalid
			}
		}
		files, code := generate(*genSpec, stderr)
		if files == nil {
			return code
		}
		if err := rulegen.Write(*genOut, files); err != nil {
			fmt.Fprintf(stderr, "rulegen: %v\n", err)
			return exitError
		}
		for _, f := range files {
			fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*genOut, filepath.FromSlash(f.Path)))
		}
		return exitOK
	case check.FullCommand():
		files, code := generate(*checkSpec, stderr)
		if files == nil {
			return code
		}
		stale, err := rulegen.Check(*checkOut, files)
		if err != nil {
			fmt.Fprintf(stderr, "rulegen: %v\n", err)
			return exitError
		}
		if len(stale) > 0 {
			for _, s := range stale {
				fmt.Fprint(stdout, s.Diff)
			}
			fmt.Fprintf(stderr, "rulegen: %d generated file(s) are stale; run `%s` and commit the result\n", len(stale), generateCommand(*checkSpec, *checkOut))
			return exitCheckFailed
		}
		fmt.Fprintf(stdout, "%d generated files are up to date\n", len(files))
		return exitOK
	case test.FullCommand():
		return runTests(ctx, *testPromtool, *testOut, stdout, stderr)
	case pf.cmd.FullCommand():
		return runPreflight(ctx, pf, stdout, stderr)
	case jf.cmd.FullCommand():
		return runJudge(ctx, jf, stdout, stderr)
	case sv.cmd.FullCommand():
		return runServe(ctx, sv, stdout, stderr)
	case initCmd.FullCommand():
		if *initMinimal {
			_, _ = stdout.Write(spec.MinimalSpec)
		} else {
			_, _ = stdout.Write(spec.DefaultSpec)
		}
		return exitOK
	case "version":
		fmt.Fprintln(stdout, version.Print("rulegen"))
		return exitOK
	}
	if code, ok := ev.run(ctx, cmd, stdout, stderr); ok {
		return code
	}
	return exitInvalid
}

// generateCommand is the command that rewrites what check found stale,
// with the same spec and directory.
func generateCommand(specFile, out string) string {
	if specFile == "" {
		specFile = platformSpec
	}
	return "rulegen generate --spec " + specFile + " --out " + out
}

// platformSpec is the --spec value that names the built-in spec.
const platformSpec = "platform"

// modulePath is this repository's Go module.
const modulePath = "github.com/redline-sre/redline"

// moduleOf reads the module path of a go.mod (its module line).
func moduleOf(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// inThisRepository says whether dir is inside a checkout of redline
// itself — the nearest go.mod above it declares this module — the only
// place where generate writes the platform's files without --spec
// platform. Otherwise it says what dir is instead.
func inThisRepository(dir string) (bool, string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false, "not a usable directory"
	}
	for d := abs; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			if moduleOf(data) == modulePath {
				return true, ""
			}
			return false, fmt.Sprintf("in the Go module %q, not in redline's repository", moduleOf(data))
		}
		if filepath.Dir(d) == d {
			return false, "not inside redline's repository"
		}
	}
}

// generate loads the spec (or the built-in one) and renders every output.
// It returns nil files and the exit code on failure.
//
// A directory is every *.yml and *.yaml spec in it, each service's files
// beside the others'; two specs that would write the same file (the same
// service twice) are an error naming both.
func generate(specFile string, stderr io.Writer) ([]render.File, int) {
	if fi, err := os.Stat(specFile); err == nil && fi.IsDir() {
		return generateDir(specFile, stderr)
	}
	files, _, code := generateOne(specFile, stderr)
	return files, code
}

func generateDir(dir string, stderr io.Writer) ([]render.File, int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen: --spec: %v\n", err)
		return nil, exitInvalid
	}
	var all []render.File
	from := map[string]string{}    // generated path -> the spec that wrote it
	body := map[string][]byte{}    // generated path -> its text after the header
	service := map[string]string{} // service -> its spec
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".yml" && ext != ".yaml") {
			continue
		}
		file := filepath.Join(dir, e.Name())
		files, svc, code := generateOne(file, stderr)
		if files == nil {
			return nil, code
		}
		if prev, ok := service[svc]; ok {
			fmt.Fprintf(stderr, "rulegen: --spec %s: %s and %s are both service %q: their files would overwrite each other\n", dir, prev, file, svc)
			return nil, exitInvalid
		}
		service[svc] = file
		for _, f := range files {
			b := withoutHeader(f.Data)
			prev, ok := from[f.Path]
			switch {
			case !ok:
				from[f.Path], body[f.Path] = file, b
				all = append(all, f)
			case !bytes.Equal(body[f.Path], b):
				// A file every service writes alike (dashboards/.lint)
				// is written once; any other difference is a conflict.
				fmt.Fprintf(stderr, "rulegen: --spec %s: %s and %s both generate %s, differently\n", dir, prev, file, f.Path)
				return nil, exitInvalid
			}
		}
	}
	if len(all) == 0 {
		fmt.Fprintf(stderr, "rulegen: --spec %s: no *.yml or *.yaml spec in the directory\n", dir)
		return nil, exitInvalid
	}
	return all, exitOK
}

// withoutHeader is a generated file's text after its leading comment
// lines (the header naming the spec it came from).
func withoutHeader(data []byte) []byte {
	for bytes.HasPrefix(data, []byte("#")) {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil
		}
		data = data[i+1:]
	}
	return data
}

func generateOne(specFile string, stderr io.Writer) ([]render.File, string, int) {
	var (
		s      *spec.Spec
		err    error
		source = spec.DefaultName
	)
	if specFile == "" || specFile == platformSpec {
		s, err = spec.Default()
	} else {
		var data []byte
		// A spec that cannot be read is a wrong --spec: exit 2, as for
		// preflight.
		if data, err = os.ReadFile(specFile); err != nil {
			fmt.Fprintf(stderr, "rulegen: --spec: %v\n", err)
			return nil, "", exitInvalid
		}
		s, err = spec.Load(specFile, data)
		source = filepath.Base(specFile)
	}
	if err != nil {
		var list spec.ErrorList
		if errors.As(err, &list) {
			fmt.Fprintf(stderr, "%v\n", err)
			return nil, "", exitInvalid
		}
		fmt.Fprintf(stderr, "rulegen: %v\n", err)
		return nil, "", exitError
	}
	files, err := rulegen.Generate(s, source)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen: %v\n", err)
		return nil, "", exitInvalid
	}
	warnings, err := rulegen.Warnings(s, source)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen: %v\n", err)
		return nil, "", exitInvalid
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "rulegen: warning: %s\n", w)
	}
	return files, s.Service, exitOK
}

// runTests runs promtool on every generated test file in dir.
func runTests(ctx context.Context, promtool, dir string, stdout, stderr io.Writer) int {
	bin, err := exec.LookPath(promtool)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen: promtool not found (%v); install Prometheus's promtool (Debian package \"prometheus\", or `make deps`)\n", err)
		return exitError
	}
	tests, err := filepath.Glob(filepath.Join(dir, "rules", "*.test.yml"))
	if err != nil || len(tests) == 0 {
		fmt.Fprintf(stderr, "rulegen: no generated tests under %s; run `rulegen generate --out %s` first\n", filepath.Join(dir, "rules"), dir)
		return exitError
	}
	sort.Strings(tests)
	cmd := exec.CommandContext(ctx, bin, append([]string{"test", "rules"}, tests...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			fmt.Fprintf(stderr, "rulegen: promtool test rules failed for %s\n", strings.Join(tests, " "))
			return exitCheckFailed
		}
		fmt.Fprintf(stderr, "rulegen: %v\n", err)
		return exitError
	}
	return exitOK
}

// terminate is kingpin's request to end after --help or --version.
type terminate int

// parse runs kingpin's parser; terminated is the exit code when --help or
// --version ended it, else -1.
func parse(app *kingpin.Application, args []string) (cmd string, terminated int, err error) {
	defer func() {
		if r := recover(); r != nil {
			code, ok := r.(terminate)
			if !ok {
				panic(r)
			}
			terminated = int(code)
		}
	}()
	cmd, err = app.Parse(args)
	return cmd, -1, err
}

// longFlags lists the long flag names of the application and of its
// commands.
func longFlags(app *kingpin.Application) map[string]bool {
	names := map[string]bool{}
	m := app.Model()
	for _, f := range m.Flags {
		names[f.Name] = true
	}
	for _, c := range m.Commands {
		for _, f := range c.Flags {
			names[f.Name] = true
		}
	}
	return names
}

// goStyleFlags rewrites every one-dash form of a long flag of rulegen
// (-spec, -prometheus=URL, -watch 15m) to its double-dash form. Go's flag
// package accepts one dash, docs/spec.md says rulegen does, many CI
// scripts write it that way, and kingpin would read "-spec" as the short
// flags -s -p -e -c. Anything else that starts with one dash (a value
// such as -spec-file, -1) stays as it is, as does everything after "--".
func goStyleFlags(args []string, known map[string]bool) []string {
	out := make([]string, len(args))
	rest := false
	for i, a := range args {
		if a == "--" {
			rest = true
		}
		name, _, _ := strings.Cut(a, "=")
		if !rest && len(name) > 2 && name[0] == '-' && name[1] != '-' && known[name[1:]] {
			a = "-" + a
		}
		out[i] = a
	}
	return out
}
