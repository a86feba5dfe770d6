package eventloop

import (
	"strings"
	"testing"
	"time"
)

func TestWithDefaults(t *testing.T) {
	got := ProbeConfig{Name: "app", URL: "http://127.0.0.1:3000/loop"}.WithDefaults()
	if got.Interval != 50*time.Millisecond || got.Timeout != time.Second || got.MaxInFlight != 20 {
		t.Errorf("defaults = interval %s, timeout %s, max in-flight %d; want 50ms, 1s, 20",
			got.Interval, got.Timeout, got.MaxInFlight)
	}
	// The in-flight cap follows the timing: a stall as long as the timeout
	// must not turn ticks into skips.
	for _, tc := range []struct {
		interval, timeout time.Duration
		want              int
	}{
		{100 * time.Millisecond, time.Second, 10},
		{300 * time.Millisecond, time.Second, 4},
		{2 * time.Second, time.Second, 1},
	} {
		if got := (ProbeConfig{Interval: tc.interval, Timeout: tc.timeout}).WithDefaults().MaxInFlight; got != tc.want {
			t.Errorf("interval %s, timeout %s: max in-flight %d, want %d", tc.interval, tc.timeout, got, tc.want)
		}
	}
	set := ProbeConfig{Name: "app", URL: "http://x/", Interval: time.Second, Timeout: 3 * time.Second, MaxInFlight: 9}
	if got := set.WithDefaults(); !got.equal(set) {
		t.Errorf("WithDefaults changed set fields: %+v", got)
	}
	if err := (ProbeConfig{Name: "app", URL: "https://app.internal:8443/loop"}).WithDefaults().Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	valid := ProbeConfig{Name: "app", URL: "http://127.0.0.1:3000/loop"}.WithDefaults()
	tests := []struct {
		name   string
		modify func(*ProbeConfig)
		want   string
	}{
		{"no name", func(c *ProbeConfig) { c.Name = "" }, `eventloop probe: name is empty`},
		{"bad utf8 name", func(c *ProbeConfig) { c.Name = "a\xff" }, `eventloop probe "a\xff": name is not valid UTF-8`},
		{"no url", func(c *ProbeConfig) { c.URL = "" }, `eventloop probe "app": url is empty`},
		{"unparsable url", func(c *ProbeConfig) { c.URL = "http://u:secret@[::1" }, `eventloop probe "app": url does not parse`},
		{"scheme", func(c *ProbeConfig) { c.URL = "ftp://u:secret@host/loop" },
			`eventloop probe "app": url must start with http:// or https://`},
		{"relative url", func(c *ProbeConfig) { c.URL = "/loop" },
			`eventloop probe "app": url must start with http:// or https://`},
		{"no host", func(c *ProbeConfig) { c.URL = "http:///loop?token=secret" }, `eventloop probe "app": url has no host`},
		{"port only", func(c *ProbeConfig) { c.URL = "http://:3000/loop" }, `eventloop probe "app": url has no host`},
		{"port out of range", func(c *ProbeConfig) { c.URL = "http://u:secret@127.0.0.1:99999/loop" },
			`eventloop probe "app": url port 99999 is not between 1 and 65535`},
		{"port zero", func(c *ProbeConfig) { c.URL = "http://127.0.0.1:0/loop" },
			`eventloop probe "app": url port 0 is not between 1 and 65535`},
		{"negative interval", func(c *ProbeConfig) { c.Interval = -time.Second },
			`eventloop probe "app": interval must be at least 1ms`},
		{"tiny interval", func(c *ProbeConfig) { c.Interval = time.Microsecond },
			`eventloop probe "app": interval must be at least 1ms`},
		{"negative timeout", func(c *ProbeConfig) { c.Timeout = -1 },
			`eventloop probe "app": timeout must be positive`},
		{"negative in-flight", func(c *ProbeConfig) { c.MaxInFlight = -2 },
			`eventloop probe "app": max in-flight must be positive`},
		{"header name", func(c *ProbeConfig) { c.Headers = map[string]string{"Bad Header": "x"} },
			`eventloop probe "app": invalid header name "Bad Header"`},
		{"header value", func(c *ProbeConfig) { c.Headers = map[string]string{"Authorization": "Bearer s3cret\r\nX: y"} },
			`eventloop probe "app": header "Authorization": value contains a line break or NUL`},
		{"every problem at once", func(c *ProbeConfig) { c.URL, c.Interval, c.Timeout = "ftp://h/", time.Microsecond, -1 },
			"eventloop probe \"app\": url must start with http:// or https://\n" +
				"eventloop probe \"app\": interval must be at least 1ms\n" +
				"eventloop probe \"app\": timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.modify(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Validate() = %q\nwant         %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
}
