package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// nodeDecoder is implemented by value types that read one scalar themselves.
type nodeDecoder interface {
	decodeYAML(n *yaml.Node) error
}

// maxNodes bounds how many YAML nodes one spec may expand to: aliases can
// make a small file describe an exponentially large tree.
const maxNodes = 200000

// decoder walks a yaml.Node tree into Go values strictly: unknown keys,
// duplicate keys and wrong types are errors with the node's position and
// the key path. It records the position of every value it decodes so that
// later semantic checks can point at the spec line.
type decoder struct {
	file  string
	errs  ErrorList
	pos   map[string]Pos
	nodes int
	// failed are the key paths whose value was not decoded.
	failed map[string]bool
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	p := Pos{}
	if n != nil {
		p = Pos{n.Line, n.Column}
	}
	d.failed[path] = true
	d.errs = append(d.errs, &Error{File: d.file, Pos: p, Path: path, Msg: fmt.Sprintf(format, args...)})
}

var nodeDecoderType = reflect.TypeFor[nodeDecoder]()

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errorf(n, path, "document too large (more than %d nodes after expanding aliases)", maxNodes)
		}
		return
	}
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			d.errorf(n, path, "unknown alias")
			return
		}
		n = n.Alias
	}
	d.pos[path] = Pos{n.Line, n.Column}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value leaves the zero value; required keys are checked later
	}
	if v.CanAddr() && v.Addr().Type().Implements(nodeDecoderType) {
		if err := v.Addr().Interface().(nodeDecoder).decodeYAML(n); err != nil {
			d.errorf(n, path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		d.decode(n, nv.Elem(), path)
		v.Set(nv)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
		v.Set(s)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			d.errorf(n, path, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	default:
		panic("spec: cannot decode into " + v.Type().String())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	t := v.Type()
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			d.errorf(k, path, "keys must be strings, got %s", describe(k))
			continue
		}
		kp := join(path, k.Value)
		if seen[k.Value] {
			d.errorf(k, kp, "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = true
		idx, ok := fields[k.Value]
		if !ok {
			d.errorf(k, kp, "%s", unknownKeyMessage(t, n, k.Value, names))
			continue
		}
		d.decode(val, v.Field(idx), kp)
	}
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			d.errorf(k, path, "keys must be strings, got %s", describe(k))
			continue
		}
		kp := join(path, k.Value)
		key := reflect.ValueOf(k.Value)
		if m.MapIndex(key).IsValid() {
			d.errorf(k, kp, "duplicate key %q", k.Value)
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, kp)
		m.SetMapIndex(key, elem)
	}
	v.Set(m)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return fmt.Sprintf("string %q", n.Value)
		case "!!int", "!!float":
			return "number " + n.Value
		case "!!bool":
			return "boolean " + n.Value
		case "!!null":
			return "null"
		}
		return fmt.Sprintf("%s %q", strings.TrimPrefix(n.Tag, "!!"), n.Value)
	}
	return "an unsupported YAML node"
}

// decoded is the outcome of decoding a spec: the position of every value,
// the paths whose value could not be decoded, and the errors that say why.
type decoded struct {
	pos    map[string]Pos
	failed map[string]bool
	errs   ErrorList
}

// decodeDocument parses exactly one YAML document into out. A nil pos means
// nothing was decoded (a syntax error, an empty file); otherwise out holds
// every value that decoded, so that the spec can still be checked.
func decodeDocument(file string, data []byte, out any) decoded {
	d := &decoder{file: file, pos: map[string]Pos{}, failed: map[string]bool{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return decoded{errs: ErrorList{{File: file, Msg: "empty spec"}}}
		}
		return decoded{errs: ErrorList{yamlError(file, err)}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return decoded{errs: ErrorList{yamlError(file, err)}}
		}
		return decoded{errs: ErrorList{{File: file, Pos: Pos{extra.Line, extra.Column}, Msg: "a spec is one YAML document; found a second one"}}}
	}
	if len(doc.Content) != 1 {
		return decoded{errs: ErrorList{{File: file, Msg: "empty spec"}}}
	}
	d.decode(doc.Content[0], reflect.ValueOf(out).Elem(), "")
	return decoded{pos: d.pos, failed: d.failed, errs: d.errs}
}

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: ...") into our
// format. yaml.v3 reports lines but not columns for syntax errors.
func yamlError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if l, err := strconv.Atoi(rest[:i]); err == nil {
				line = l
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	e := &Error{File: file, Msg: "invalid YAML: " + msg}
	if line > 0 {
		e.Pos = Pos{Line: line, Column: 1}
	}
	return e
}
