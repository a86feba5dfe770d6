package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	// kingpin would os.Exit after --help or a usage error; record the code
	// instead so that Run returns it.
	terminated := -1
	app.Terminate(func(code int) {
		if terminated < 0 {
			terminated = code
		}
	})
	app.UsageWriter(stderr)
	app.ErrorWriter(stderr)
	app.HelpFlag.Short('h')

	gen := app.Command("generate", "Write the generated files into --out.")
	genSpec := gen.Flag("spec", "Spec file (default: the "+spec.DefaultName+" spec, the platform's).").PlaceHolder("FILE").String()
	genOut := gen.Flag("out", "Output directory.").Default(".").String()

	check := app.Command("check", "Fail when the generated files in --out are stale (exit 1, with a diff) or the spec is invalid (exit 2).")
	checkSpec := check.Flag("spec", "Spec file (default: the "+spec.DefaultName+" spec, the platform's).").PlaceHolder("FILE").String()
	checkOut := check.Flag("out", "Directory holding the generated files.").Default(".").String()

	test := app.Command("test", "Run promtool test rules on the generated tests in --out.")
	testOut := test.Flag("out", "Directory holding the generated files.").Default(".").String()
	testPromtool := test.Flag("promtool", "promtool binary.").Default("promtool").String()

	pf := preflightCommand(app)

	initCmd := app.Command("init", "Print a spec to start from: the "+spec.DefaultName+" spec (the platform's), or with --minimal a small one for another service.")
	initMinimal := initCmd.Flag("minimal", "Print a minimal spec (a ratio and a latency signal, a trigger, an SLO, the route) instead of the platform's.").Bool()
	app.Command("version", "Print the version.")

	if len(args) == 0 {
		app.Usage(nil)
		fmt.Fprintln(stderr, "rulegen: no command given")
		return exitInvalid
	}
	cmd, err := app.Parse(goStyleFlags(args))
	if terminated == 0 {
		return exitOK // --help was shown
	}
	if err != nil {
		fmt.Fprintf(stderr, "rulegen: %v\n", err)
		return exitInvalid
	}
	switch cmd {
	case "": // --help was shown
		return exitOK
	case gen.FullCommand():
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
	case initCmd.FullCommand():
		if *initMinimal {
			_, _ = stdout.Write(spec.MinimalSpec)
		} else {
			_, _ = stdout.Write(spec.DefaultSpec)
		}
		return exitOK
	case "version":
		fillVersion()
		fmt.Fprintln(stdout, version.Print("rulegen"))
		return exitOK
	}
	return exitInvalid
}

// generateCommand is the command that rewrites what check found stale,
// with the same spec and directory.
func generateCommand(specFile, out string) string {
	cmd := "rulegen generate"
	if specFile != "" {
		cmd += " --spec " + specFile
	}
	return cmd + " --out " + out
}

// generate loads the spec (or the built-in one) and renders every output.
// It returns nil files and the exit code on failure.
func generate(specFile string, stderr io.Writer) ([]render.File, int) {
	var (
		s      *spec.Spec
		err    error
		source = spec.DefaultName
	)
	if specFile == "" {
		s, err = spec.Default()
	} else {
		s, err = spec.LoadFile(specFile)
		source = filepath.Base(specFile)
	}
	if err != nil {
		var list spec.ErrorList
		if errors.As(err, &list) {
			fmt.Fprintf(stderr, "%v\n", err)
			return nil, exitInvalid
		}
		fmt.Fprintf(stderr, "rulegen: %v\n", err)
		return nil, exitError
	}
	files, err := rulegen.Generate(s, source)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen: %v\n", err)
		return nil, exitInvalid
	}
	warnings, err := rulegen.Warnings(s, source)
	if err != nil {
		fmt.Fprintf(stderr, "rulegen: %v\n", err)
		return nil, exitInvalid
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "rulegen: warning: %s\n", w)
	}
	return files, exitOK
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

// goStyleFlags rewrites -spec, -out and -promtool (with a value after a
// space or an =) to their double-dash form. Go's flag package accepts one
// dash, the design notes and many CI scripts write it that way, and
// kingpin would read "-spec" as the short flags -s -p -e -c.
func goStyleFlags(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		name, _, _ := strings.Cut(a, "=")
		switch name {
		case "-spec", "-out", "-promtool":
			a = "-" + a
		}
		out[i] = a
	}
	return out
}
