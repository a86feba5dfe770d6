package config

import (
	"errors"
	"fmt"
	"strings"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
)

// syntaxError turns yaml.v3's syntax error into file:line:column: message.
// yaml.v3 reports the line where the enclosing construct began, not where
// the mistake is ("line 1" for a bracket left open on line 4), and no
// column. goccy/go-yaml's parser points at the offending token, so the
// file is parsed again with it only to locate the mistake. Should it
// accept what yaml.v3 refused, yaml.v3's own line is reported. Neither
// message quotes the file's content.
func syntaxError(file string, data []byte, v3err error) error {
	_, err := goccyparser.ParseBytes(data, 0)
	var se *goccy.SyntaxError
	if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
		return fmt.Errorf("%s:%d:%d: YAML syntax: %s", file, se.Token.Position.Line, se.Token.Position.Column, se.Message)
	}
	return fmt.Errorf("%s: YAML syntax: %s", file, strings.TrimPrefix(v3err.Error(), "yaml: "))
}
