package testenv

import (
	"path/filepath"
	"testing"
)

// Alertmanager is a running throwaway Alertmanager.
type Alertmanager struct{ httpService }

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
	s, err := startHTTPService("alertmanager", bin, nil, func(dir, addr string) ([]string, error) {
		return []string{
			"--config.file=" + absDir(configFile),
			"--storage.path=" + filepath.Join(dir, "data"),
			"--web.listen-address=" + addr,
			"--cluster.listen-address=",
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return &Alertmanager{*s}, nil
}

// NewAlertmanager starts Alertmanager for a test and stops it when the test ends.
func NewAlertmanager(t testing.TB, configFile string) *Alertmanager {
	t.Helper()
	am, err := StartAlertmanager(configFile)
	return forTest(t, am, err)
}
