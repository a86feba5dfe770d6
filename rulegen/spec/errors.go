package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a 1-based line and column in the spec file.
type Pos struct {
	Line, Column int
}

// Error is one problem in a spec, located at file:line:column and named by
// the key path (for example signals[2].threshold).
type Error struct {
	File string
	Pos  Pos
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, e.Pos.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one spec, in file order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

func (l ErrorList) sorted() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		// Problems without a position (missing top-level keys) go last.
		if (l[i].Pos.Line == 0) != (l[j].Pos.Line == 0) {
			return l[j].Pos.Line == 0
		}
		if l[i].Pos.Line != l[j].Pos.Line {
			return l[i].Pos.Line < l[j].Pos.Line
		}
		return l[i].Pos.Column < l[j].Pos.Column
	})
	return l
}
