package dashboard_test

import (
	"bytes"
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestProvisioningExample decodes docs/grafana-provisioning.yml strictly
// with the keys of Grafana's dashboard provider file, so a typo in the
// example (which Grafana would ignore silently) fails here.
func TestProvisioningExample(t *testing.T) {
	data, err := os.ReadFile("../../../docs/grafana-provisioning.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name                  string `yaml:"name"`
			OrgID                 int    `yaml:"orgId"`
			Type                  string `yaml:"type"`
			Folder                string `yaml:"folder"`
			FolderUID             string `yaml:"folderUid"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path                      string `yaml:"path"`
				FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.APIVersion != 1 || len(cfg.Providers) != 1 {
		t.Fatalf("apiVersion %d, %d providers", cfg.APIVersion, len(cfg.Providers))
	}
	p := cfg.Providers[0]
	if p.Type != "file" || p.Options.Path == "" || p.AllowUIUpdates {
		t.Errorf("provider %+v: want a file provider with a path that refuses UI edits", p)
	}
}
