package diff

import "testing"

func TestUnified(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n"
	want := `--- old
+++ new
@@ -1,10 +1,11 @@
 a
 b
 c
-d
+D
 e
 f
 g
 h
 i
 j
+k
`
	if got := Unified("old", "new", a, b); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := Unified("old", "new", a, a); got != "" {
		t.Errorf("equal inputs gave a diff:\n%s", got)
	}
}

func TestUnifiedSeparateHunks(t *testing.T) {
	var a, b string
	for i := range 30 {
		line := string(rune('A'+i%26)) + "\n"
		a += line
		if i == 2 || i == 25 {
			line = "changed\n"
		}
		b += line
	}
	want := `--- x
+++ y
@@ -1,6 +1,6 @@
 A
 B
-C
+changed
 D
 E
 F
@@ -23,7 +23,7 @@
 W
 X
 Y
-Z
+changed
 A
 B
 C
`
	if got := Unified("x", "y", a, b); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestUnifiedNewFileAndMissingNewline(t *testing.T) {
	want := "--- /dev/null\n+++ b/f\n@@ -0,0 +1,2 @@\n+x\n+y\n\\ No newline at end of file\n"
	if got := Unified("/dev/null", "b/f", "", "x\ny"); got != want {
		t.Errorf("got:\n%q\nwant:\n%q", got, want)
	}
}
