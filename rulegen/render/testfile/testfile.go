// Package testfile writes the promtool unit tests of the generated rules.
package testfile

import (
	"path"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/promtest"
	"github.com/redline-sre/redline/rulegen/render"
	"github.com/redline-sre/redline/rulegen/render/rulefile"
)

// Path is where the test file of a model goes, beside its rule file.
func Path(m *model.Model) string { return "rules/" + m.Service + ".test.yml" }

// Render writes rules/<service>.test.yml.
func Render(m *model.Model) (render.File, error) {
	f, err := promtest.Generate(m, path.Base(rulefile.Path(m)))
	if err != nil {
		return render.File{}, err
	}
	data, err := render.YAML(m, f)
	return render.File{Path: Path(m), Data: data}, err
}
