package spec

import (
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// expand substitutes ${name} references to the spec's selectors.
func (v *validator) expand(path, in string) (string, bool) {
	ok := true
	out := templateRE.ReplaceAllStringFunc(in, func(m string) string {
		name := m[2 : len(m)-1]
		val, found := v.s.Selectors[name]
		if !found {
			v.errorf(path, "unknown selector ${%s} (define it under selectors)", name)
			ok = false
		}
		return val
	})
	if ok && strings.Contains(out, "${") {
		v.errorf(path, "unterminated ${ in %q", in)
		ok = false
	}
	return out, ok
}

// Parser is the PromQL parser every fragment is checked with.
var Parser = parser.NewParser(parser.Options{})

// selector expands and parses a series selector in place.
func (v *validator) selector(path string, field *string, required bool) {
	if *field == "" {
		if required {
			i := strings.LastIndex(path, ".")
			v.missing(path[:i], path[i+1:])
		}
		return
	}
	s, ok := v.expand(path, *field)
	if !ok {
		return
	}
	expr, err := Parser.ParseExpr(s)
	if err != nil {
		v.errorf(path, "invalid PromQL in %q: %s", s, promqlMessage(err))
		return
	}
	vs, isSel := expr.(*parser.VectorSelector)
	if !isSel || vs.Name == "" || vs.OriginalOffset != 0 || vs.Timestamp != nil || vs.StartOrEnd != 0 {
		v.errorf(path, "expected a series selector such as metric{job=\"x\"}, got %q", s)
		return
	}
	*field = s
}

func promqlMessage(err error) string {
	if pe, ok := err.(parser.ParseErrors); ok && len(pe) > 0 {
		return pe[0].Err.Error()
	}
	return err.Error()
}
