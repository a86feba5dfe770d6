package spec

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/internal/yamlstrict"
)

// QuantityKind says how a quantity was written, which decides where it may
// be used (a latency threshold must be a duration, an objective a ratio).
type QuantityKind int

const (
	// Number is a plain number: 0.5, 3, 1e-3.
	Number QuantityKind = iota
	// Percent is written with a % sign and stored as a fraction.
	Percent
	// Seconds is a duration such as 200ms or 30s, stored in seconds.
	Seconds
)

// Quantity is an exact rational value. Thresholds and objectives are kept
// as rationals so that derived numbers (1 - 99.9%, 14.4 × budget) print as
// 0.001 and 0.0144, never as 0.0010000000000000009.
type Quantity struct {
	Kind QuantityKind
	Text string
	rat  *big.Rat
}

// Rat returns a copy of the exact value.
func (q Quantity) Rat() *big.Rat {
	if q.rat == nil {
		return new(big.Rat)
	}
	return new(big.Rat).Set(q.rat)
}

// IsZero reports whether the quantity was never set.
func (q Quantity) IsZero() bool { return q.rat == nil }

// String formats the value as Prometheus reads it.
func (q Quantity) String() string { return FormatRat(q.Rat()) }

// ParseQuantity reads 0.5, 1%, 99.9%, 200ms, 30s or 1e-3.
func ParseQuantity(s string) (Quantity, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Quantity{}, fmt.Errorf("empty value")
	}
	if strings.HasSuffix(t, "%") {
		r, ok := parseDecimal(strings.TrimSuffix(t, "%"))
		if !ok {
			return Quantity{}, fmt.Errorf("invalid percentage %q", s)
		}
		return Quantity{Kind: Percent, Text: t, rat: r.Quo(r, big.NewRat(100, 1))}, nil
	}
	if r, ok := parseDecimal(t); ok {
		return Quantity{Kind: Number, Text: t, rat: r}, nil
	}
	if t[0] >= '0' && t[0] <= '9' {
		d, err := model.ParseDuration(t)
		if err != nil {
			return Quantity{}, fmt.Errorf("invalid number or duration %q", s)
		}
		r := new(big.Rat).SetFrac64(int64(time.Duration(d)/time.Millisecond), 1000)
		return Quantity{Kind: Seconds, Text: t, rat: r}, nil
	}
	return Quantity{}, fmt.Errorf("invalid number %q", s)
}

// parseDecimal accepts only finite decimal literals (no fractions like 1/3,
// no hex, no Inf or NaN) with a bounded exponent, so that huge exponents in
// hostile input cannot make big.Rat allocate without limit.
func parseDecimal(s string) (*big.Rat, bool) {
	if s == "" || len(s) > 64 {
		return nil, false
	}
	for i, c := range s {
		switch {
		case c >= '0' && c <= '9', c == '.':
		case (c == '-' || c == '+') && (i == 0 || s[i-1] == 'e' || s[i-1] == 'E'):
		case c == 'e' || c == 'E':
		default:
			return nil, false
		}
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, err := strconv.Atoi(s[i+1:])
		if err != nil || exp > 30 || exp < -30 {
			return nil, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

func (q *Quantity) decodeYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float" && n.Tag != "!!str") {
		return fmt.Errorf("expected a number, percentage or duration")
	}
	v, err := ParseQuantity(n.Value)
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// FormatRat prints an exact value in the shortest decimal form that
// Prometheus parses back to the same float64.
func FormatRat(r *big.Rat) string {
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Duration is a Prometheus duration (5m, 1h, 28d) as written in the spec.
type Duration struct {
	model.Duration
	Text string
}

// IsZero reports whether the duration was never set.
func (d Duration) IsZero() bool { return d.Text == "" }

// String returns Prometheus's canonical spelling.
func (d Duration) String() string { return d.Duration.String() }

// Seconds returns the duration in seconds.
func (d Duration) Seconds() float64 { return time.Duration(d.Duration).Seconds() }

// MustDuration parses a duration known to be valid (defaults).
func MustDuration(s string) Duration {
	d, err := model.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return Duration{Duration: d, Text: s}
}

func (d *Duration) decodeYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration, got %s", yamlstrict.Describe(n))
	}
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		// The exporter's config says the same (yamlstrict), and neither
		// repeats the value.
		return errors.New(yamlstrict.BadDuration)
	}
	*d = Duration{Duration: v, Text: n.Value}
	return nil
}
