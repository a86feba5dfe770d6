package spec

import _ "embed"

// DefaultSpec is the platform's own spec: what `rulegen generate` uses
// without --spec and what `rulegen init` prints.
//
//go:embed platform.yml
var DefaultSpec []byte

// DefaultName is the one name of the built-in spec: in errors, in the
// generated files' headers ("from the built-in default spec") and in help.
const DefaultName = "built-in default"

// Default loads the built-in platform spec.
func Default() (*Spec, error) { return Load(DefaultName, DefaultSpec) }

// MinimalSpec is what `rulegen init --minimal` prints: a ratio and a
// latency signal, a rollback trigger, an SLO and the route, to start a
// spec for another service from.
//
//go:embed minimal.yml
var MinimalSpec []byte
