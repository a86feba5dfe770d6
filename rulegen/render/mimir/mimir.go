// Package mimir writes the rule file as a Mimir or Cortex ruler namespace
// file: the same groups with a top-level namespace, what `mimirtool rules
// load` and `mimirtool rules sync` read.
package mimir

import (
	"bytes"
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/rulefile"
	"github.com/redline-sre/redline/rulegen/validate"
)

type namespaceFile struct {
	Namespace string           `yaml:"namespace"`
	Groups    []rulefile.Group `yaml:"groups"`
}

// Path is where the namespace file goes.
func Path(m *model.Model) string { return "mimir/" + m.Service + ".rules.yml" }

// Render writes mimir/<service>.rules.yml when the spec asks for it.
func Render(m *model.Model) (render.File, error) {
	if m.Outputs == nil || m.Outputs.Mimir == nil {
		return render.File{}, nil
	}
	data, err := render.YAML(m, namespaceFile{Namespace: m.Outputs.Mimir.Namespace, Groups: rulefile.Groups(m)})
	return render.File{Path: Path(m), Data: data}, err
}

// Validate decodes the file strictly and checks its groups with
// Prometheus's rule-file parser, which the Mimir ruler uses too.
func Validate(data []byte) error {
	var f namespaceFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("namespace file: %w", err)
	}
	if f.Namespace == "" {
		return errors.New("namespace file without a namespace")
	}
	groups, err := yaml.Marshal(struct {
		Groups []rulefile.Group `yaml:"groups"`
	}{f.Groups})
	if err != nil {
		return err
	}
	return validate.Rules(groups)
}
