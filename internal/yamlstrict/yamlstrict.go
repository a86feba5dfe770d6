// Package yamlstrict is the one strict YAML loader of redline, shared by
// the rulegen spec loader and the exporter's config parser, in the manner
// of Prometheus's rulefmt: a file is parsed into yaml.v3 nodes, then
// walked by the caller with the helpers here, which report every problem
// as file:line:column: key.path: message. The same mistake (a syntax error,
// an unknown or duplicate key, a value of the wrong type, a bad duration)
// is reported at the same position in the same words by both tools.
// Messages name keys and types, never a value: a DSN or a token pasted in
// the wrong place must not be printed (keys and paths go through the
// caller's Redact).
package yamlstrict

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/internal/hint"
)

// Error is one problem of a file, at 1-based Line:Column (0 when it has no
// position) and named by its key path (signals[2].threshold).
type Error struct {
	File         string
	Line, Column int
	Path         string
	Msg          string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// SecondDocument is the message for a file holding more than one document.
const SecondDocument = "a file is one YAML document; found a second one"

// Parse checks data's bounds before any parse (at most maxBytes, UTF-8,
// only characters YAML allows, at most MaxDepth levels), then parses
// exactly one YAML document. It returns the document's root node, nil for
// an empty file (no document, or only comments). redact is applied to
// anything of the file a syntax message names (nil: nothing is redacted).
func Parse(file string, data []byte, maxBytes int, redact func(string) string) (*yaml.Node, *Error) {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	if err := precheck(file, data, maxBytes); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, data, err, redact)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(file, data, err, redact)
		}
		return nil, &Error{File: file, Line: extra.Line, Column: extra.Column, Msg: SecondDocument}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// MaxNodes bounds how many nodes one file may expand to: aliases can make
// a small file describe an exponentially large tree.
const MaxNodes = 200000

// Walker collects the problems of one file while the caller walks its
// nodes.
type Walker struct {
	File string
	// Redact is applied to every key path and key a message names; nil
	// redacts nothing.
	Redact func(string) string
	Errs   []*Error
	nodes  int
}

func (w *Walker) redact(s string) string {
	if w.Redact == nil {
		return s
	}
	return w.Redact(s)
}

// Errorf records a problem at n (nil: no position) under path.
func (w *Walker) Errorf(n *yaml.Node, path, format string, args ...any) {
	e := &Error{File: w.File, Path: w.redact(path), Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	w.Errs = append(w.Errs, e)
}

// Resolve follows n's aliases and counts n against MaxNodes. ok is false
// (and the problem recorded) for an alias of an unknown anchor or once the
// file has expanded past MaxNodes.
func (w *Walker) Resolve(n *yaml.Node, path string) (*yaml.Node, bool) {
	w.nodes++
	if w.nodes > MaxNodes {
		if w.nodes == MaxNodes+1 {
			w.Errorf(n, path, "document too large (more than %d nodes after expanding aliases)", MaxNodes)
		}
		return n, false
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			w.Errorf(n, path, "unknown alias")
			return n, false
		}
		n = n.Alias
	}
	return n, true
}

// Keys are the keys a mapping takes. Known nil means any key (a map of
// names to values). The unknown-key message suggests from and lists Shown
// when set (a signal's keys of its own kind, while every signal key
// decodes and a later check names the misplaced one), else Known; What
// qualifies the list (" of a ratio signal").
type Keys struct {
	Known []string
	Shown []string
	What  string
}

// Join is the path of key under path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Mapping checks that n is a mapping whose keys are strings, each once,
// and each known, and calls each with every accepted key, its value and
// its path. A null value is an empty mapping. It reports false when n is
// no mapping.
func (w *Walker) Mapping(n *yaml.Node, path string, keys Keys, each func(key string, k, v *yaml.Node, path string)) bool {
	if IsNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		w.Errorf(n, path, "expected a mapping, got %s", Describe(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" && k.Tag != "!!int" && k.Tag != "!!bool" && k.Tag != "!!float" {
			w.Errorf(k, path, "keys must be strings, got %s", Describe(k))
			continue
		}
		kp := Join(path, k.Value)
		switch {
		case seen[k.Value]:
			w.Errorf(k, kp, "duplicate key %q", w.redact(k.Value))
		case keys.Known != nil && !slices.Contains(keys.Known, k.Value):
			seen[k.Value] = true
			w.Errorf(k, kp, "%s", UnknownKey(w.redact(k.Value), keys))
		default:
			seen[k.Value] = true
			each(k.Value, k, v, kp)
		}
	}
	return true
}

// UnknownKey says that key is unknown, suggests the closest known key when
// one is near and lists the known ones.
func UnknownKey(key string, keys Keys) string {
	known := keys.Known
	if keys.Shown != nil {
		known = keys.Shown
	}
	known = slices.Sorted(slices.Values(known))
	msg := fmt.Sprintf("unknown key %q", key)
	if s := hint.Closest(key, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg + fmt.Sprintf(" (known keys%s: %s)", keys.What, strings.Join(known, ", "))
}

// Sequence calls item for each element of a list, with its path. A null
// value is an empty list. It reports false when n is no list.
func (w *Walker) Sequence(n *yaml.Node, path string, item func(i int, e *yaml.Node, path string)) bool {
	if IsNull(n) {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		w.Errorf(n, path, "expected a list, got %s", Describe(n))
		return false
	}
	for i, e := range n.Content {
		item(i, e, fmt.Sprintf("%s[%d]", path, i))
	}
	return true
}

// Scalar is the text of a scalar that is not null; otherwise it records
// "expected <what>, got ..." and reports false. A number or a boolean is
// accepted as its text (a name of digits).
func (w *Walker) Scalar(n *yaml.Node, path, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || IsNull(n) {
		w.Errorf(n, path, "expected %s, got %s", what, Describe(n))
		return "", false
	}
	return n.Value, true
}

// String is the value of a string scalar (tagged !!str: quoted, or plain
// text that is no number, boolean or null).
func (w *Walker) String(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		w.Errorf(n, path, "expected a string, got %s", Describe(n))
		return "", false
	}
	return n.Value, true
}

// Bool is the value of a boolean scalar.
func (w *Walker) Bool(n *yaml.Node, path string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		w.Errorf(n, path, "expected true or false, got %s", Describe(n))
		return false, false
	}
	return strings.EqualFold(n.Value, "true"), true
}

// BadDuration is the message of a duration that does not parse, the same
// whichever grammar the caller parses with.
const BadDuration = "invalid duration (use a number and one of ms, s, m, h, d, w, y)"

// IsNull reports whether n is a null scalar (an empty value, ~, null).
func IsNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// Describe names n's type, never its value: a value in the wrong place may
// be a password.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return "a string"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "nothing"
		case "!!timestamp":
			return "a timestamp"
		case "!!binary":
			return "binary data"
		}
		return "a tagged value"
	}
	return "an unsupported YAML node"
}

// Sorted orders problems by position; those without one go last.
func Sorted(l []*Error) []*Error {
	sort.SliceStable(l, func(i, j int) bool {
		if (l[i].Line == 0) != (l[j].Line == 0) {
			return l[j].Line == 0
		}
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Column < l[j].Column
	})
	return l
}
