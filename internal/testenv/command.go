package testenv

import (
	"os"
	"path/filepath"
	"syscall"
)

// Command is any other long-running program the harness started: an
// exporter under test or under measurement.
type Command struct {
	service
}

// StartCommand runs bin with args and extra environment, its output logged
// in a temporary directory, and waits until readyURL answers 200 (or the
// program exits, which is reported with the end of its log).
func StartCommand(name, bin string, args, env []string, readyURL string) (*Command, error) {
	dir, err := os.MkdirTemp("", "redline-"+name+"-")
	if err != nil {
		return nil, err
	}
	c := &Command{service: service{Dir: dir}}
	c.proc, err = startProcessEnv(name, bin, args, env, filepath.Join(dir, name+".log"), nil, syscall.SIGTERM)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := c.proc.waitReady(httpReady(readyURL)); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}
