package yamlstrict

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
)

// locateBelow is the largest file parsed a second time to locate a syntax
// error: goccy/go-yaml allocates about 400 bytes per byte of input (500 MB
// for 1 MB), five times yaml.v3, so a larger file gets yaml.v3's line.
const locateBelow = 64 << 10

// locateDepth bounds structure(data) for the second parse: whatever the
// depth scan concluded, goccy never sees a file that could nest deeper
// (its memory grows with the square of the depth: 25 MB at 4,000 levels).
const locateDepth = 4000

// structure counts every byte that can open a level of nesting, and the
// lines: a bound on the depth that no quoting or scalar can fool.
func structure(data []byte) int {
	n := 0
	for _, c := range data {
		switch c {
		case '[', '{', '-', '?', ':', '\n':
			n++
		}
	}
	return n
}

// v3LineRE finds yaml.v3's "line N: " in its messages.
var v3LineRE = regexp.MustCompile(`^line (\d+): `)

// v3AnchorRE is yaml.v3's message for an alias to an anchor never set.
var v3AnchorRE = regexp.MustCompile(`unknown anchor '(.*)' referenced`)

// syntaxError turns yaml.v3's syntax error into an Error at line:column.
// yaml.v3 names a line but no column, and for a construct left open the
// line it began on ("line 1" for a bracket never closed on line 4).
// goccy/go-yaml's parser points at the offending token, so a file of at
// most locateBelow bytes (and MaxDepth levels, by precheck) is parsed
// again with it only to locate the mistake: on 28 broken files yaml.v3's
// line with a column found from the source bytes (columnOf) agreed with
// goccy on 4, and named another line than the mistake's on 12. Should
// goccy accept what yaml.v3 refused, or the file be larger, yaml.v3's
// line is reported with columnOf's column; an error naming no line (an
// alias of an unknown anchor) is placed at the alias. The message never
// quotes the file's content; an anchor name goes through redact, as a
// key would.
func syntaxError(file string, data []byte, v3err error, redact func(string) string) *Error {
	if len(data) <= locateBelow && structure(data) <= locateDepth {
		_, err := goccyparser.ParseBytes(data, 0)
		var se *goccy.SyntaxError
		if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
			return &Error{File: file, Line: se.Token.Position.Line, Column: se.Token.Position.Column, Msg: "YAML syntax: " + se.Message}
		}
	}
	msg := strings.TrimPrefix(v3err.Error(), "yaml: ")
	line, col := 1, 1
	if m := v3LineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		col = columnOf(lineText(data, line), msg)
	} else if m := v3AnchorRE.FindStringSubmatch(msg); m != nil {
		if off := strings.Index(string(data), "*"+m[1]); off >= 0 {
			line, col = position(data, off)
		}
		msg = fmt.Sprintf("unknown anchor %q referenced", redact(m[1]))
	}
	return &Error{File: file, Line: line, Column: col, Msg: "YAML syntax: " + msg}
}

// lineText is line (1-based) of data without its line break; "" past the
// end.
func lineText(data []byte, line int) string {
	lines := strings.SplitN(string(data), "\n", line+1)
	if line < 1 || line > len(lines) {
		return ""
	}
	return strings.TrimSuffix(lines[line-1], "\r")
}

// columnOf is the column (in characters, 1-based) of the mistake yaml.v3
// describes as msg on a line whose text is l: the character the message
// is about when the line shows it, else the line's first character that
// is not a space.
func columnOf(l, msg string) int {
	first := len(l) - len(strings.TrimLeft(l, " \t"))
	off := first
	switch {
	case strings.Contains(msg, "tab character"):
		// A tab in the indentation.
		if i := strings.IndexByte(l, '\t'); i >= 0 {
			off = i
		}
	case strings.Contains(msg, "cannot start any token"):
		// A reserved indicator (@, `) or a tab where a token begins.
		if i := strings.IndexAny(l[first:], "@`\t"); i >= 0 {
			off = first + i
		}
	case strings.Contains(msg, "expected node content") && strings.ContainsAny(l, "[{"):
		// A flow collection left open.
		off = max(strings.LastIndexByte(l, '['), strings.LastIndexByte(l, '{'))
	case strings.Contains(msg, "expected ',' or ']'"):
		off = lastOpen(l, '[', first)
	case strings.Contains(msg, "expected ',' or '}'"):
		off = lastOpen(l, '{', first)
	case strings.Contains(msg, "mapping values are not allowed"):
		// The second ": " of "a: b: c".
		if i := valueIndicator(l, first); i >= 0 {
			if j := valueIndicator(l, i+1); j >= 0 {
				off = j
			}
		}
	case strings.Contains(msg, "found unexpected end of stream"), strings.Contains(msg, "did not find expected"):
		// An open quote: the quote itself.
		if i := strings.IndexAny(l[first:], `"'`); i >= 0 && strings.Contains(msg, "quoted scalar") {
			off = first + i
		}
	}
	return utf8.RuneCountInString(l[:off]) + 1
}

// lastOpen is the offset of the last open bracket on l, or def.
func lastOpen(l string, open byte, def int) int {
	if i := strings.LastIndexByte(l, open); i >= 0 {
		return i
	}
	return def
}

// valueIndicator is the offset of the first ':' at or after from that is
// followed by a space or ends the line; -1 when there is none.
func valueIndicator(l string, from int) int {
	for i := from; i < len(l); i++ {
		if l[i] == ':' && (i+1 == len(l) || l[i+1] == ' ' || l[i+1] == '\t') {
			return i
		}
	}
	return -1
}
