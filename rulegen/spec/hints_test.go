package spec

import (
	"strings"
	"testing"
)

// TestFootguns: each mistake a spec used to accept silently (or reject
// without saying what to write) is an error at the key that names the fix.
func TestFootguns(t *testing.T) {
	base := `version: redline/v1
service: api
signals:
  - name: latency
    kind: latency
    histogram: http_request_duration_seconds{job="api"}
    quantile: 0.95
    threshold: 200ms
  - name: errors
    kind: ratio
    errors: http_requests_total{job="api", code=~"5.."}
    total: http_requests_total{job="api"}
    threshold: 1%
slos:
  - name: availability
    signal: errors
    objective: 99.9%
alertmanager:
  webhook_url: http://localhost:9095/hook
`
	if _, err := Load("spec.yml", []byte(base)); err != nil {
		t.Fatalf("the base spec does not load: %v", err)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{
			"histogram named by its _bucket series",
			`histogram: http_request_duration_seconds{job="api"}`, `histogram: http_request_duration_seconds_bucket{job="api"}`,
			`spec.yml:6:16: signals[0].histogram: histogram "http_request_duration_seconds_bucket" names one of its series (rulegen would read http_request_duration_seconds_bucket_bucket); write the histogram's name without _bucket: http_request_duration_seconds`,
		},
		{
			"histogram named by its _count series",
			`histogram: http_request_duration_seconds{job="api"}`, `histogram: http_request_duration_seconds_count`,
			`without _count: http_request_duration_seconds`,
		},
		{
			"latency threshold without a unit",
			"threshold: 200ms", "threshold: 500",
			`spec.yml:8:16: signals[0].threshold: latency threshold 500 has no unit, so it means 500 seconds; write 500ms (or 500s if seconds are meant)`,
		},
		{
			"objective as a percentage without %",
			"objective: 99.9%", "objective: 99",
			`spec.yml:17:16: slos[0].objective: 99 is out of range for an objective (above 0% and below 100%); did you mean 99%?`,
		},
		{
			"objective 1.5: 1.5% is no objective the burn windows can alert on, so no hint",
			"objective: 99.9%", "objective: 1.5",
			`spec.yml:17:16: slos[0].objective: 1.5 is out of range for an objective (above 0% and below 100%)`,
		},
		{
			"objective whose burn thresholds exceed 100% errors",
			"objective: 99.9%", "objective: 1.5%",
			`spec.yml:17:16: slos[0].objective: 1.5% leaves 98.5% of requests to fail, so the 1h/5m burn window (factor 14.4) would fire only above 1418.4% errors and can never fire; with these windows an objective must be at least 93.06%`,
		},
		{
			"ratio threshold as a percentage without %",
			"threshold: 1%", "threshold: 5",
			`signals[1].threshold: 5 is out of range for a ratio (0% to 100%, or 0 to 1); did you mean 5%?`,
		},
		{
			"misspelt key of a latency signal",
			"quantile: 0.95", "quantil: 0.95",
			`signals[0].quantil: unknown key "quantil"; did you mean "quantile"? (known keys of a latency signal: bucket, description, guard, histogram, kind, min_rate, name, op, quantile, threshold, unit, window)`,
		},
		{
			"key of another kind misspelt on a ratio signal",
			"total: http_requests_total{job=\"api\"}", "totl: http_requests_total{job=\"api\"}",
			`signals[1].totl: unknown key "totl"; did you mean "total"? (known keys of a ratio signal: description, errors, kind, min_rate, name, op, threshold, total, unit, window)`,
		},
		{
			"misspelt top-level key",
			"alertmanager:", "alertmanger:",
			`unknown key "alertmanger"; did you mean "alertmanager"?`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(base, c.from, c.to, 1)
			if doc == base {
				t.Fatalf("fixture: %q not in the base spec", c.from)
			}
			_, err := Load("spec.yml", []byte(doc))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, c.want)
			}
		})
	}
	// 1.5% is rejected too: the hint must not lead there.
	if _, err := Load("spec.yml", []byte(strings.Replace(base, "objective: 99.9%", "objective: 1.5", 1))); err == nil || strings.Contains(err.Error(), "did you mean 1.5%") {
		t.Errorf("objective: 1.5 suggests an objective that is rejected: %v", err)
	}
	// A small bare latency (seconds) and a number of seconds with its unit
	// stay valid; so do names that merely contain a suffix.
	for _, ok := range []struct{ from, to string }{
		{"threshold: 200ms", "threshold: 0.2"},
		{"threshold: 200ms", "threshold: 2"},
		{"threshold: 200ms", "threshold: 15s"},
		{`histogram: http_request_duration_seconds{job="api"}`, `histogram: bucket_fill_seconds{job="api"}`},
	} {
		if _, err := Load("spec.yml", []byte(strings.Replace(base, ok.from, ok.to, 1))); err != nil {
			t.Errorf("%s: %v", ok.to, err)
		}
	}
}
