package evidence

import (
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/preflight"
)

// TestValueContradicts covers the value shapes preflight stores: one
// number, a range over series, a percentage of the budget; and values
// within the 4 significant digits of the threshold, which cannot be told.
func TestValueContradicts(t *testing.T) {
	for _, tc := range []struct {
		value, threshold string
		status           preflight.Status
		want             string
	}{
		{"5", "<= 10", preflight.GO, ""},
		{"50", "<= 10", preflight.GO, "value 50 is not <= 10, yet the check is GO"},
		{"5", "<= 10", preflight.NoGo, "value 5 is <= 10, yet the check is NO-GO"},
		{"0.2…0.97 (2 series)", "<= 1", preflight.GO, ""},
		{"0.2…1.5 (2 series)", "<= 1", preflight.GO, "is not <= 1"},
		{"0.2…1.5 (2 series)", "<= 1", preflight.NoGo, ""},
		{"80%", ">= 25% of the budget", preflight.GO, ""},
		{"10%", ">= 25% of the budget", preflight.GO, "value 10% is not >= 25% of the budget"},
		{"-5%", ">= 25% of the budget", preflight.NoGo, ""},
		{"0.05", "< 0.05", preflight.GO, ""},    // 0.049996 rounds to 0.05
		{"0.05001", "< 0.05", preflight.GO, ""}, // within the rounding
		{"0.06", "< 0.05", preflight.GO, "is not < 0.05"},
		{"no data", "<= 10", preflight.GO, ""},
		{"50", "<= 10", preflight.Unknown, ""},
		{"50%", "<= 10", preflight.GO, ""}, // units differ: not comparable
		{"not firing", "X not pending or firing", preflight.GO, ""},
	} {
		got := valueContradicts(&preflight.Result{Check: "c", Value: tc.value, Threshold: tc.threshold, Status: tc.status})
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s vs %s (%s): %q, want %q", tc.value, tc.threshold, tc.status, got, tc.want)
		}
	}
}
