package spec

import (
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/internal/yamlstrict"
)

// nodeDecoder is implemented by value types that read one scalar themselves.
type nodeDecoder interface {
	decodeYAML(n *yaml.Node) error
}

// MaxSpecBytes bounds a spec file, checked before it is parsed: the
// platform spec is about 30 KB.
const MaxSpecBytes = 4 << 20

// decoder walks a yaml.Node tree into Go values strictly, with the loader
// the exporter's config shares (internal/yamlstrict): unknown keys,
// duplicate keys and wrong types are errors with the node's position and
// the key path, in the same words as the exporter's. It records the
// position of every value it decodes so that later semantic checks can
// point at the spec line.
type decoder struct {
	w   yamlstrict.Walker
	pos map[string]Pos
	// failed are the key paths whose value was not decoded.
	failed map[string]bool
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.w.Errorf(n, path, format, args...)
}

var nodeDecoderType = reflect.TypeFor[nodeDecoder]()

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n, ok := d.w.Resolve(n, path)
	if !ok {
		return
	}
	d.pos[path] = Pos{n.Line, n.Column}
	if yamlstrict.IsNull(n) {
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
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		if d.w.Sequence(n, path, func(i int, c *yaml.Node, cp string) { d.decode(c, s.Index(i), cp) }) {
			v.Set(s)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		if d.w.Mapping(n, path, yamlstrict.Keys{}, func(key string, _, val *yaml.Node, kp string) {
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, elem, kp)
			m.SetMapIndex(reflect.ValueOf(key), elem)
		}) {
			v.Set(m)
		}
	case reflect.String:
		if s, ok := d.w.String(n, path); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if b, ok := d.w.Bool(n, path); ok {
			v.SetBool(b)
		}
	default:
		panic("spec: cannot decode into " + v.Type().String())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
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
	d.w.Mapping(n, path, knownKeys(t, n, names), func(key string, _, val *yaml.Node, kp string) {
		d.decode(val, v.Field(fields[key]), kp)
	})
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
	root, perr := yamlstrict.Parse(file, data, MaxSpecBytes, nil)
	if perr != nil {
		return decoded{errs: ErrorList{fromStrict(perr)}}
	}
	if root == nil {
		return decoded{errs: ErrorList{{File: file, Msg: "empty spec"}}}
	}
	d := &decoder{w: yamlstrict.Walker{File: file}, pos: map[string]Pos{}, failed: map[string]bool{}}
	d.decode(root, reflect.ValueOf(out).Elem(), "")
	res := decoded{pos: d.pos, failed: d.failed}
	for _, e := range d.w.Errs {
		d.failed[e.Path] = true
		res.errs = append(res.errs, fromStrict(e))
	}
	return res
}

func fromStrict(e *yamlstrict.Error) *Error {
	return &Error{File: e.File, Pos: Pos{e.Line, e.Column}, Path: e.Path, Msg: e.Msg}
}

func join(path, key string) string { return yamlstrict.Join(path, key) }
