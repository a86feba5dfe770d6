package bench

import "testing"

func TestShortErrorKeepsWhatAndWhy(t *testing.T) {
	err := "x exited during start-up (exit status 1); log:\nTraceback (most recent call last):\n  File \"/usr/bin/x\", line 33\n\nKeyError: 'total_requests'\n"
	want := "x exited during start-up (exit status 1); log: … KeyError: 'total_requests'"
	if got := shortError(err); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := shortError("one line"); got != "one line" {
		t.Errorf("got %q", got)
	}
}
