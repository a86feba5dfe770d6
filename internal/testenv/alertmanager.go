package testenv

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Alertmanager is a running throwaway Alertmanager.
type Alertmanager struct {
	Dir  string
	URL  string // http://127.0.0.1:port
	Addr string // 127.0.0.1:port
	proc *process
}

// StartAlertmanager starts Alertmanager with the given configuration file,
// clustering off and its storage in a temporary directory.
func StartAlertmanager(configFile string) (*Alertmanager, error) {
	return withPortRetry(func() (*Alertmanager, error) { return startAlertmanagerOnce(configFile) })
}

func startAlertmanagerOnce(configFile string) (*Alertmanager, error) {
	bin, err := LookPath("alertmanager")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redline-alertmanager-")
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	am := &Alertmanager{Dir: dir, Addr: "127.0.0.1:" + strconv.Itoa(port)}
	am.URL = "http://" + am.Addr
	am.proc, err = startProcess("alertmanager", bin, []string{
		"--config.file=" + absDir(configFile),
		"--storage.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + am.Addr,
		"--cluster.listen-address=",
	}, filepath.Join(dir, "alertmanager.log"), nil, syscall.SIGTERM)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := am.proc.waitReady(httpReady(am.URL + "/-/ready")); err != nil {
		am.Stop()
		return nil, err
	}
	return am, nil
}

// NewAlertmanager starts Alertmanager for a test and stops it when the test ends.
func NewAlertmanager(t testing.TB, configFile string) *Alertmanager {
	t.Helper()
	am, err := StartAlertmanager(configFile)
	return forTest(t, am, err)
}

// Stop ends Alertmanager and removes its directory.
func (am *Alertmanager) Stop() error {
	var err error
	if am.proc != nil {
		err = am.proc.Stop()
	}
	os.RemoveAll(am.Dir)
	return err
}

// Log returns the end of Alertmanager's log, for test failure messages.
func (am *Alertmanager) Log() string { return am.proc.logTail() }
