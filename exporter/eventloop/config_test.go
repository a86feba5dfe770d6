package eventloop

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestWithDefaults(t *testing.T) {
	got := ProbeConfig{Name: "app", URL: "http://127.0.0.1:3000/loop"}.WithDefaults()
	if got.Interval != 50*time.Millisecond || got.Timeout != time.Second || got.MaxInFlight != 4 {
		t.Errorf("defaults = interval %s, timeout %s, max in-flight %d; want 50ms, 1s, 4",
			got.Interval, got.Timeout, got.MaxInFlight)
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
			`eventloop probe "app": url "ftp://u:xxxxx@host/loop": scheme must be http or https, got "ftp"`},
		{"relative url", func(c *ProbeConfig) { c.URL = "/loop" },
			`eventloop probe "app": url "/loop": scheme must be http or https, got ""`},
		{"no host", func(c *ProbeConfig) { c.URL = "http:///loop" }, `eventloop probe "app": url "http:///loop": no host`},
		{"negative interval", func(c *ProbeConfig) { c.Interval = -time.Second },
			`eventloop probe "app": interval must be positive, got -1s`},
		{"negative timeout", func(c *ProbeConfig) { c.Timeout = -1 },
			`eventloop probe "app": timeout must be positive, got -1ns`},
		{"negative in-flight", func(c *ProbeConfig) { c.MaxInFlight = -2 },
			`eventloop probe "app": max in-flight must be positive, got -2`},
		{"header name", func(c *ProbeConfig) { c.Headers = map[string]string{"Bad Header": "x"} },
			`eventloop probe "app": invalid header name "Bad Header"`},
		{"header value", func(c *ProbeConfig) { c.Headers = map[string]string{"Authorization": "Bearer s3cret\r\nX: y"} },
			`eventloop probe "app": header "Authorization": value contains a line break or NUL`},
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

// TestYAMLKeys pins the keys of a probes: entry as the docs show them.
func TestYAMLKeys(t *testing.T) {
	const doc = `
- name: trading-api
  url: http://127.0.0.1:3000/__redline/loop
  interval: 25ms
  timeout: 2s
  max_in_flight: 8
  headers:
    Host: api.internal
`
	var probes []ProbeConfig
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&probes); err != nil {
		t.Fatal(err)
	}
	want := ProbeConfig{
		Name: "trading-api", URL: "http://127.0.0.1:3000/__redline/loop",
		Interval: 25 * time.Millisecond, Timeout: 2 * time.Second, MaxInFlight: 8,
		Headers: map[string]string{"Host": "api.internal"},
	}
	if len(probes) != 1 || !probes[0].equal(want) {
		t.Errorf("decoded %+v, want %+v", probes, want)
	}
}
