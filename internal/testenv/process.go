package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// readyTimeout bounds how long any component may take to become ready.
const readyTimeout = 30 * time.Second

// process is one child we started. Stop ends exactly it (and its process
// group) and waits until it has gone.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
	stopSig syscall.Signal
	once    sync.Once
}

// startProcess runs bin with args, its output in logPath. When runAs is not
// nil the process drops to that user (PostgreSQL and pgBouncer refuse to run
// as root).
func startProcess(name, bin string, args []string, logPath string, runAs *syscall.Credential, stopSig syscall.Signal) (*process, error) {
	return startProcessEnv(name, bin, args, nil, logPath, runAs, stopSig)
}

// startProcessEnv is startProcess with extra environment variables.
func startProcessEnv(name, bin string, args, env []string, logPath string, runAs *syscall.Credential, stopSig syscall.Signal) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: runAs, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{}), stopSig: stopSig}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended on its own.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Pid is the process id, for tests that send signals (SIGSTOP/SIGCONT).
func (p *process) Pid() int { return p.cmd.Process.Pid }

// Stop asks the process to end, kills its group after a grace period, and
// returns once it has been reaped. It is safe to call more than once.
func (p *process) Stop() error {
	var err error
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		// A stopped process ignores SIGTERM until it is continued.
		_ = syscall.Kill(-pgid, syscall.SIGCONT)
		_ = syscall.Kill(-pgid, p.stopSig)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		// Make sure nothing of the group outlives us (e.g. postgres backends).
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if alive(pgid) {
			err = fmt.Errorf("%s (pid %d) still running after stop", p.name, pgid)
		}
	})
	return err
}

// alive reports whether a process with this pid still exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// state is the field after the parenthesised command name.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// logTail returns the last lines of the process log, for error messages.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// waitReady polls check until it succeeds, the process exits, or the
// deadline passes.
func (p *process) waitReady(check func(ctx context.Context) error) error {
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		if p.exited() {
			return &startupExit{name: p.name, err: p.waitErr, log: p.logTail()}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = check(ctx)
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s: %v; log:\n%s", p.name, readyTimeout, last, p.logTail())
}

// httpReady checks that GET url answers 200.
func httpReady(url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// unprivileged returns the credential to run database processes under when
// we are root, or nil when we are not. PostgreSQL and pgBouncer refuse to run
// as root; Debian's postgresql package creates the "postgres" user.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New(`running as root, and there is no "postgres" user to run the database as (install the Debian package "postgresql")`)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// makeDir creates a private state directory owned by cred's user (when set).
func makeDir(parent, pattern string, cred *syscall.Credential) (string, error) {
	dir, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return "", err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// writeFile writes a file readable by cred's user.
func writeFile(path string, data []byte, cred *syscall.Credential) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return err
	}
	if cred != nil {
		return os.Chown(path, int(cred.Uid), int(cred.Gid))
	}
	return nil
}

// absDir makes dir absolute (configs written for child processes need it).
func absDir(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
}

// startupExit is a component that ended before it was ready.
type startupExit struct {
	name string
	err  error
	log  string
}

func (e *startupExit) Error() string {
	return fmt.Sprintf("%s exited during start-up (%v); log:\n%s", e.name, e.err, e.log)
}

// portTaken reports whether err is a start-up that failed because its port
// was taken between FreePort and the bind — another test's server won the
// race. Such a start is worth one more try on a new port.
func portTaken(err error) bool {
	var se *startupExit
	if !errors.As(err, &se) {
		return false
	}
	l := strings.ToLower(se.log)
	return strings.Contains(l, "address already in use") || strings.Contains(l, "could not bind")
}

// withPortRetry runs start up to three times while it fails on a taken port.
func withPortRetry[T any](start func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := start()
		if err == nil || attempt == 3 || !portTaken(err) {
			return v, err
		}
	}
}
