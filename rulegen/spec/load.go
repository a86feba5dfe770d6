package spec

import (
	"os"
)

// LoadFile reads and validates a spec file.
func LoadFile(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data)
}

// Load decodes and validates a spec. The error, when not nil, is an
// ErrorList naming every problem with file:line:column.
func Load(file string, data []byte) (*Spec, error) {
	s := &Spec{}
	pos, errs := decodeDocument(file, data, s)
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	s.File, s.pos = file, pos
	v := &validator{s: s}
	v.run()
	if len(v.errs) > 0 {
		return nil, v.errs.sorted()
	}
	return s, nil
}
