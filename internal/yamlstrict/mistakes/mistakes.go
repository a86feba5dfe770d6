// Package mistakes is the one table of spec mistakes that both YAML
// loaders built on internal/yamlstrict (rulegen's spec, the exporter's
// config) must report at the same position in the same words. Each
// loader's test renders the table with its own key names (a Frame) and
// checks its errors hold every rendered line. Only tests import it.
package mistakes

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Frame names, for one loader, the keys the mistakes are made with: a
// top-level list of mappings (List), and in its items a string key (Str)
// and a duration key (Dur). Known are an item's keys as the unknown-key
// message lists them (What qualifies them), Top the top-level keys.
type Frame struct {
	List, Str, Dur string
	Known, What    string
	Top            string
}

// Mistake is one mistake: a file, the text the error points at (its first
// occurrence in the rendered file) and the message after file:line:col.
type Mistake struct {
	Name string
	YAML string
	At   string
	Want string
}

// Table is every mistake. {list}, {str}, {dur}, {known}, {what} and {top}
// are replaced by the Frame's values.
var Table = []Mistake{
	{"unknown key with a hint", "{list}:\n  - {str}: a\n    {str}x: b\n", "{str}x:",
		`{list}[0].{str}x: unknown key "{str}x"; did you mean "{str}"? (known keys{what}: {known})`},
	{"unknown top-level key", "{list}x: []\n", "{list}x",
		`{list}x: unknown key "{list}x"; did you mean "{list}"? (known keys: {top})`},
	{"duplicate key", "{list}:\n  - {str}: a\n    {str}: b\n", "{str}: b", `{list}[0].{str}: duplicate key "{str}"`},
	{"a list for a string", "{list}:\n  - {str}: [a]\n", "[a]", `{list}[0].{str}: expected a string, got a list`},
	{"a string for a list", "{list}: x\n", "x", `{list}: expected a list, got a string`},
	{"bad duration", "{list}:\n  - {dur}: 5 minutes\n", "5 minutes",
		`{list}[0].{dur}: invalid duration (use a number and one of ms, s, m, h, d, w, y)`},
	{"a mapping for a duration", "{list}:\n  - {dur}: {a: 1}\n", "{a: 1}", `{list}[0].{dur}: expected a duration, got a mapping`},
	{"bracket left open", "{list}:\n  - {str}: [a\n", "[a", `YAML syntax: sequence end token ']' not found`},
	{"tab indentation", "{list}:\n\t- {str}: a\n", "\t", `YAML syntax: found character '` + "\t" + `' that cannot start any token`},
	{"bad indentation", "{list}:\n  - {str}: a\n   {dur}: 5m\n", "{dur}: 5m", `YAML syntax: value is not allowed in this context`},
	{"invalid UTF-8", "{list}:\n  - {str}: a\xffb\n", "\xff", `not valid UTF-8 (byte 0xff); save the file as UTF-8`},
	{"control character", "{list}:\n  - {str}: a\x07b\n", "\x07",
		`character U+0007 is not allowed in YAML; write it as an escape (\x07) inside a double-quoted string`},
	{"unknown anchor", "{list}:\n  - {str}: *nope\n", "*nope", `YAML syntax: unknown anchor "nope" referenced`},
	{"second document", "{list}: []\n---\n{list}: []\n", "---", `a file is one YAML document; found a second one`},
	{"nested too deep", "{list}: " + strings.Repeat("[", 70) + "\n", strings.Repeat("[", 8) + "\n",
		// The key and its ':' are two levels, the 63rd bracket the 65th.
		`nested deeper than 64 levels`},
}

// Render is the mistake's file and its expected error line for a loader
// whose file is named file.
func (m Mistake) Render(f Frame, file string) (data []byte, want string) {
	r := strings.NewReplacer("{list}", f.List, "{str}", f.Str, "{dur}", f.Dur, "{known}", f.Known, "{what}", f.What, "{top}", f.Top)
	yml := r.Replace(m.YAML)
	at := r.Replace(m.At)
	off := strings.Index(yml, at)
	if off < 0 {
		panic(fmt.Sprintf("mistake %q: %q not in its file", m.Name, at))
	}
	line := 1 + strings.Count(yml[:off], "\n")
	col := 1 + utf8.RuneCountInString(yml[strings.LastIndex(yml[:off], "\n")+1:off])
	return []byte(yml), fmt.Sprintf("%s:%d:%d: %s", file, line, col, r.Replace(m.Want))
}
