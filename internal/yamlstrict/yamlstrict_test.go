package yamlstrict

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Messages name keys and types, never values, and redact keys and paths.
func TestMessagesShowNoValues(t *testing.T) {
	const secret = "Hunter2Secret"
	data := []byte("a:\n  postgres://u:" + secret + "@h/db: 1\n  b: [" + secret + "]\n  c: " + secret + "\n  c: x\n")
	root, perr := Parse("f.yml", data, 1<<20, nil)
	if perr != nil {
		t.Fatal(perr)
	}
	w := &Walker{File: "f.yml", Redact: func(s string) string { return strings.ReplaceAll(s, secret, "xxxxx") }}
	w.Mapping(root, "", Keys{Known: []string{"a"}}, func(_ string, _, v *yaml.Node, path string) {
		w.Mapping(v, path, Keys{Known: []string{"b", "c"}}, func(key string, _, v *yaml.Node, path string) {
			if key == "b" {
				w.String(v, path)
			} else {
				w.Bool(v, path)
			}
		})
	})
	got := w.Err().Error()
	for _, want := range []string{
		`f.yml:2:3: a.postgres://u:xxxxx@h/db: unknown key "postgres://u:xxxxx@h/db" (known keys: b, c)`,
		`f.yml:3:6: a.b: expected a string, got a list`,
		`f.yml:4:6: a.c: expected true or false, got a string`,
		`f.yml:5:3: a.c: duplicate key "c"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, secret) {
		t.Errorf("errors show a value:\n%s", got)
	}
}

// Aliases resolve, and a file that expands past MaxNodes is refused once.
func TestAliasBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	for i := range 6 {
		prev := string(rune('a' + i))
		next := string(rune('b' + i))
		b.WriteString(next + ": &" + next + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n")
	}
	root, perr := Parse("f.yml", []byte(b.String()), 1<<20, nil)
	if perr != nil {
		t.Fatal(perr)
	}
	w := &Walker{File: "f.yml"}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		n, ok := w.Resolve(n, path)
		if !ok {
			return
		}
		for _, c := range n.Content {
			walk(c, path)
		}
	}
	walk(root, "")
	if len(w.Errs) != 1 || !strings.Contains(w.Errs[0].Msg, "document too large") {
		t.Errorf("errors: %v", w.Err())
	}
}

// Err is every recorded problem in file order, or nil.
func (w *Walker) Err() error {
	if len(w.Errs) == 0 {
		return nil
	}
	return Errors(Sorted(w.Errs))
}

// Errors is every problem of one file, in file order.
type Errors []*Error

func (l Errors) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}
