package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"

	"github.com/redline-sre/redline/exporter/dsn"
)

// MaxDepth bounds how deeply a config file may nest. The schema needs 4
// levels (postgres: - databases: - name); the bound is checked before any
// YAML parser sees the file, because goccy/go-yaml's memory grows with the
// square of the depth (40,000 levels in 80 KB took 2.5 GB).
const MaxDepth = 64

// precheck refuses, with file:line:col, what no YAML parser should be
// handed: too many bytes, bytes that are not UTF-8, characters YAML does
// not allow (yaml.v3 names neither line nor column for those), and nesting
// deeper than MaxDepth. It reads the file once and allocates nothing per
// byte.
func precheck(file string, data []byte) error {
	if len(data) > MaxConfigBytes {
		line, col := position(data, MaxConfigBytes)
		return fmt.Errorf("%s:%d:%d: file is larger than %d bytes", file, line, col, MaxConfigBytes)
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			line, col := position(data, i)
			return fmt.Errorf("%s:%d:%d: not valid UTF-8 (byte 0x%02x); save the file as UTF-8", file, line, col, data[i])
		}
		if !printable(r) {
			line, col := position(data, i)
			return fmt.Errorf("%s:%d:%d: character %U is not allowed in YAML; write it as an escape (\\x%02X) inside a double-quoted string", file, line, col, r, r)
		}
		i += size
	}
	if off, ok := tooDeep(data); ok {
		line, col := position(data, off)
		return fmt.Errorf("%s:%d:%d: nested deeper than %d levels", file, line, col, MaxDepth)
	}
	return nil
}

// printable is YAML 1.2's c-printable set (tab, line breaks and the
// printable Unicode ranges).
func printable(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r' || r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// position is the 1-based line and column (in characters) of byte off.
func position(data []byte, off int) (line, col int) {
	off = min(off, len(data))
	start := 0
	line = 1
	for i := 0; i < off; i++ {
		if data[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return line, utf8.RuneCount(data[start:off]) + 1
}

// tooDeep scans the file for nesting deeper than MaxDepth without parsing
// it and returns the offset where the bound is crossed. The estimate is
// never below the real depth: each block indentation level, each "- ",
// "? " or ": " on a line and each open flow bracket counts one level, so a
// file it passes nests at most MaxDepth deep, while a file of this schema
// stays far below (about 8).
func tooDeep(data []byte) (int, bool) {
	var (
		indents []int // indentation of the open block levels
		flow    int   // open [ and { brackets
		quote   byte  // the open quote, 0 outside a quoted scalar
		literal = -1  // indentation of the line that opened a block scalar
	)
	for start := 0; start < len(data); {
		end := start
		for end < len(data) && data[end] != '\n' {
			end++
		}
		line := data[start:end]
		next := end + 1
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		blank := len(bytes.TrimSpace(line)) == 0
		if literal >= 0 {
			if blank || indent > literal {
				start = next
				continue // block scalar content: text, not structure
			}
			literal = -1
		}
		i := indent
		if quote == 0 && flow == 0 {
			if blank || line[indent] == '#' {
				start = next
				continue
			}
			for len(indents) > 0 && indents[len(indents)-1] >= indent {
				indents = indents[:len(indents)-1]
			}
			indents = append(indents, indent)
		} else {
			i = 0
		}
		inline := 0
		plain := false    // in a plain scalar of block context
		last := byte(' ') // the character before line[i], a space at the start
		for ; i < len(line); i++ {
			c := line[i]
			if quote != 0 {
				switch {
				case quote == '"' && c == '\\':
					i++
				case c == quote:
					if quote == '\'' && i+1 < len(line) && line[i+1] == '\'' {
						i++ // '' is an escaped quote
					} else {
						quote = 0
					}
				}
				last = c
				continue
			}
			spaceAfter := i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t' || line[i+1] == '\r'
			tokenStart := last == ' ' || last == '\t' || last == '[' || last == '{' || last == ','
			switch {
			case c == '#' && (last == ' ' || last == '\t'):
				i = len(line) // a comment
				continue
			case (c == '"' || c == '\'') && tokenStart && !plain:
				// Inside a plain scalar ("a: x 'y") a quote is text: taking
				// it for one would hide the brackets after it.
				quote = c
			case (c == '[' || c == '{') && (tokenStart || flow > 0) && !plain:
				flow++
			case (c == ']' || c == '}') && flow > 0:
				flow--
			case (c == '-' || c == '?') && tokenStart && spaceAfter && flow == 0 && !plain:
				inline++
			case c == ':' && spaceAfter:
				inline++
				plain = false // a value follows
			case (c == '|' || c == '>') && tokenStart && flow == 0 && blockHeader(line[i+1:]):
				literal = indent
			case c != ' ' && c != '\t' && flow == 0:
				// Inside a plain scalar ("a - b - c") a dash is text.
				plain = true
			}
			if len(indents)+inline+flow > MaxDepth {
				return start + i, true
			}
			last = c
		}
		start = next
	}
	return 0, false
}

// blockHeader reports whether rest, what follows a | or >, is the rest of
// a block scalar header: indicators, then nothing but a comment.
func blockHeader(rest []byte) bool {
	s := strings.TrimLeft(string(rest), "+-0123456789")
	s = strings.TrimSpace(s)
	return s == "" || strings.HasPrefix(s, "#")
}

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

// syntaxError turns yaml.v3's syntax error into file:line:column: message.
// yaml.v3 reports the line where the enclosing construct began, not where
// the mistake is ("line 1" for a bracket left open on line 4), and no
// column. goccy/go-yaml's parser points at the offending token, so a file
// of at most locateBelow bytes (and MaxDepth levels, by precheck) is
// parsed again with it only to locate the mistake. Should it accept what yaml.v3 refused, yaml.v3's own line is
// reported, at its first character; an error naming no line (an alias of
// an unknown anchor) is placed at the alias. Neither message quotes the
// file's content; an anchor name is redacted like a DSN.
func syntaxError(file string, data []byte, v3err error) error {
	if len(data) <= locateBelow && structure(data) <= locateDepth {
		_, err := goccyparser.ParseBytes(data, 0)
		var se *goccy.SyntaxError
		if errors.As(err, &se) && se.Token != nil && se.Token.Position != nil {
			return fmt.Errorf("%s:%d:%d: YAML syntax: %s", file, se.Token.Position.Line, se.Token.Position.Column, se.Message)
		}
	}
	msg := strings.TrimPrefix(v3err.Error(), "yaml: ")
	line, col := 1, 1
	if m := v3LineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		col = firstColumn(data, line)
		msg = msg[len(m[0]):]
	} else if m := v3AnchorRE.FindStringSubmatch(msg); m != nil {
		if off := strings.Index(string(data), "*"+m[1]); off >= 0 {
			line, col = position(data, off)
		}
		msg = fmt.Sprintf("unknown anchor %q referenced", dsn.Name(m[1]))
	}
	return fmt.Errorf("%s:%d:%d: YAML syntax: %s", file, line, col, msg)
}

// firstColumn is the column of line's first character that is not a
// space (1 when the line is blank or past the end).
func firstColumn(data []byte, line int) int {
	lines := strings.SplitN(string(data), "\n", line+1)
	if line < 1 || line > len(lines) {
		return 1
	}
	l := lines[line-1]
	return utf8.RuneCountInString(l[:len(l)-len(strings.TrimLeft(l, " \t"))]) + 1
}
