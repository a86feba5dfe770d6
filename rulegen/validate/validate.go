// Package validate checks generated files in-process with the libraries
// Prometheus and Alertmanager load them with, so that a file rulegen writes
// is a file they accept.
package validate

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	amconfig "github.com/prometheus/alertmanager/config"
	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/rulegen/promtest"
	"github.com/redline-sre/redline/rulegen/spec"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Rules parses a rule file with rulefmt, which also parses every expression
// with the PromQL parser and every annotation as a template.
func Rules(data []byte) error {
	_, errs := rulefmt.Parse(data, false, commonmodel.UTF8Validation, spec.Parser, quiet)
	return errors.Join(errs...)
}

// Tests parses every input series and expression of a promtool test file
// with Prometheus's parser. It does not check the file's format: the file
// is marshalled from promtest's own structs, so decoding it back into them
// could not find an unknown key, and promtool's struct is in its main
// package. promtool itself reads the file in `rulegen test` and in the
// tests (TestPromtoolAndAmtool).
func Tests(data []byte) error {
	var f promtest.File
	if err := yaml.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("test file: %w", err)
	}
	var errs []error
	for _, g := range f.Tests {
		for _, s := range g.InputSeries {
			if _, _, err := spec.Parser.ParseSeriesDesc(s.Series + " " + s.Values); err != nil {
				errs = append(errs, fmt.Errorf("test %q: series %s: %w", g.Name, s.Series, err))
			}
		}
		for _, e := range g.ExprTests {
			if _, err := spec.Parser.ParseExpr(e.Expr); err != nil {
				errs = append(errs, fmt.Errorf("test %q: expr %s: %w", g.Name, e.Expr, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Alertmanager loads a configuration with Alertmanager's own loader.
func Alertmanager(data []byte) error {
	_, err := amconfig.Load(string(data))
	return err
}
