package yamlstrict

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxDepth bounds how deeply a file may nest. The exporter's config needs
// 4 levels (postgres: - databases: - name), a rulegen spec about 8; the
// bound is checked before yaml.v3 sees the file, whose parse of a deeply
// nested flow collection recurses once per level.
const MaxDepth = 64

// precheck refuses, with file:line:col, what no YAML parser should be
// handed: too many bytes, bytes that are not UTF-8, characters YAML does
// not allow (yaml.v3 names neither line nor column for those), and nesting
// deeper than MaxDepth. It reads the file once and allocates nothing per
// byte.
func precheck(file string, data []byte, maxBytes int) *Error {
	if len(data) > maxBytes {
		line, col := position(data, maxBytes)
		return &Error{File: file, Line: line, Column: col, Msg: fmt.Sprintf("file is larger than %d bytes", maxBytes)}
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			line, col := position(data, i)
			return &Error{File: file, Line: line, Column: col, Msg: fmt.Sprintf("not valid UTF-8 (byte 0x%02x); save the file as UTF-8", data[i])}
		}
		if !printable(r) {
			line, col := position(data, i)
			return &Error{File: file, Line: line, Column: col,
				Msg: fmt.Sprintf("character %U is not allowed in YAML; write it as an escape (\\x%02X) inside a double-quoted string", r, r)}
		}
		i += size
	}
	if off, ok := tooDeep(data); ok {
		line, col := position(data, off)
		return &Error{File: file, Line: line, Column: col, Msg: fmt.Sprintf("nested deeper than %d levels", MaxDepth)}
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
