package main

import (
	"runtime/debug"

	"github.com/prometheus/common/version"
)

// fillVersion sets the version from the module's build info when the
// build did not stamp one (plain `go build` or `go install`, without the
// Makefile's -ldflags): `go install …@v0.3.0` records v0.3.0, a build in a
// checkout a pseudo-version or (devel).
func fillVersion() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	fillVersionFrom(bi)
}

func fillVersionFrom(bi *debug.BuildInfo) {
	if version.Version == "" {
		version.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.time" && version.BuildDate == "":
			version.BuildDate = s.Value
		}
	}
}
