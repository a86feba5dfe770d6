package spec

import "os"

// LoadFile reads and validates a spec file.
func LoadFile(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data)
}

// Load decodes and validates a spec in one run: decoding, then defaults,
// then every check. The error, when not nil, is an ErrorList naming every
// problem with file:line:column — those of decoding and of the checks
// together, so that one run shows them all.
func Load(file string, data []byte) (*Spec, error) {
	s := &Spec{}
	d := decodeDocument(file, data, s)
	if d.pos == nil || d.failed[""] {
		// Nothing, or not a mapping, was decoded: there is nothing to check.
		return nil, d.errs.sorted()
	}
	s.File, s.pos = file, d.pos
	v := &validator{s: s, failed: d.failed}
	for i := range s.Signals {
		v.set = append(v.set, setKeys(&s.Signals[i]))
	}
	setDefaults(s)
	v.run()
	if errs := append(d.errs, v.errs...); len(errs) > 0 {
		return nil, errs.sorted()
	}
	return s, nil
}
