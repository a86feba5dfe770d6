package testenv

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// service is what every component the harness runs has: a process and the
// temporary directory that holds its state and log. Stopping one ends the
// process and removes the directory.
type service struct {
	Dir  string
	proc *process
}

// Pid is the component's process id, for tests that send it signals
// (SIGSTOP/SIGCONT, SIGHUP).
func (s *service) Pid() int { return s.proc.Pid() }

// Log returns the end of the component's log, for failure messages.
func (s *service) Log() string { return s.proc.logTail() }

// Stop ends the component and removes its directory. It is safe to call
// more than once.
func (s *service) Stop() error {
	var err error
	if s.proc != nil {
		err = s.proc.Stop()
	}
	os.RemoveAll(s.Dir)
	return err
}

// httpService is a component that serves HTTP on a loopback port and
// reports readiness on /-/ready (Prometheus, Alertmanager).
type httpService struct {
	service
	URL  string // http://127.0.0.1:port
	Addr string // 127.0.0.1:port
}

// startHTTPService runs bin with the arguments args returns for its state
// directory and listen address, and waits until /-/ready answers 200 (to
// readyAuth's basic-auth credentials when not nil).
func startHTTPService(name, bin string, readyAuth *url.Userinfo, args func(dir, addr string) ([]string, error)) (*httpService, error) {
	dir, err := os.MkdirTemp("", "redline-"+name+"-")
	if err != nil {
		return nil, err
	}
	s := &httpService{service: service{Dir: dir}}
	port, err := FreePort()
	if err != nil {
		s.Stop()
		return nil, err
	}
	s.Addr = "127.0.0.1:" + strconv.Itoa(port)
	s.URL = "http://" + s.Addr
	argv, err := args(dir, s.Addr)
	if err != nil {
		s.Stop()
		return nil, err
	}
	if s.proc, err = startProcess(name, bin, argv, filepath.Join(dir, name+".log"), nil, syscall.SIGTERM); err != nil {
		s.Stop()
		return nil, err
	}
	ready := url.URL{Scheme: "http", Host: s.Addr, Path: "/-/ready", User: readyAuth}
	if err := s.proc.waitReady(httpReady(ready.String())); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}
