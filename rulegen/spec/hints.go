package spec

import (
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/internal/hint"
)

// Hints for the mistakes a spec accepts silently otherwise: each names the
// fix, in the same error as the problem.

// histogramSuffixProblem catches a histogram written with the name of one
// of its series: rulegen appends _bucket, _count and _sum itself, so
// x_bucket would read x_bucket_bucket, which no exporter writes.
func histogramSuffixProblem(name string) string {
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && base != "" {
			return fmt.Sprintf("histogram %q names one of its series (rulegen would read %s%s); write the histogram's name without %s: %s",
				name, name, suffix, suffix, base)
		}
	}
	return ""
}

// histogramName checks the metric name of a latency signal's histogram
// selector (already expanded and checked by selector).
func (v *validator) histogramName(path, sel string) {
	if sel == "" {
		return
	}
	expr, err := Parser.ParseExpr(sel)
	if err != nil {
		return // selector has said so
	}
	if vs, ok := expr.(*parser.VectorSelector); ok {
		if msg := histogramSuffixProblem(vs.Name); msg != "" {
			v.errorf(path, "%s", msg)
		}
	}
}

// bareLatencyFrom is the smallest unitless latency threshold taken for a
// forgotten unit: 10 seconds and more is no latency objective anyone
// writes as a bare number, 200 or 500 is a millisecond figure.
var bareLatencyFrom = big.NewRat(10, 1)

// bareLatencyProblem catches threshold: 500 on a latency signal, which
// reads as 500 seconds and never fires.
func bareLatencyProblem(q Quantity) string {
	if q.Kind != Number || q.Rat().Cmp(bareLatencyFrom) < 0 {
		return ""
	}
	return fmt.Sprintf("latency threshold %s has no unit, so it means %s seconds; write %sms (or %ss if seconds are meant)", q.Text, q.Text, q.Text, q.Text)
}

// objectiveProblem says what is wrong with an SLO objective, in the one
// wording of the range mistake: a value outside (0%, 100%), with the
// percent sign suggested when the number read as a percentage is an
// objective the windows can alert on; and an objective so low that a burn
// window's threshold, factor × (100% − objective), exceeds 100% errors —
// that window could never fire.
func objectiveProblem(q Quantity, windows []BurnWindow) string {
	if q.Kind == Seconds {
		return fmt.Sprintf("expected a ratio such as 99.9%% or 0.999, got duration %s", q.Text)
	}
	r := q.Rat()
	one := big.NewRat(1, 1)
	if r.Sign() <= 0 || r.Cmp(one) >= 0 {
		msg := fmt.Sprintf("%s is out of range for an objective (above 0%% and below 100%%)", q.Text)
		if h := percentHint(q); h != "" {
			if p, err := ParseQuantity(q.Text + "%"); err == nil && p.Rat().Cmp(one) < 0 && burnProblem(p, windows) == "" {
				msg += h
			}
		}
		return msg
	}
	return burnProblem(q, windows)
}

// burnProblem finds the burn window whose threshold an objective puts
// above 100% errors.
func burnProblem(q Quantity, windows []BurnWindow) string {
	allowed := new(big.Rat).Sub(big.NewRat(1, 1), q.Rat())
	var worst *BurnWindow
	for i := range windows {
		w := &windows[i]
		if w.Factor == nil || w.Factor.Rat().Sign() <= 0 {
			continue
		}
		if worst == nil || w.Factor.Rat().Cmp(worst.Factor.Rat()) > 0 {
			worst = w
		}
	}
	if worst == nil {
		return ""
	}
	need := new(big.Rat).Mul(worst.Factor.Rat(), allowed)
	if need.Cmp(big.NewRat(1, 1)) <= 0 {
		return ""
	}
	inv := new(big.Rat).Inv(worst.Factor.Rat())
	least, _ := new(big.Rat).Sub(big.NewRat(1, 1), inv).Float64()
	return fmt.Sprintf("%s leaves %s of requests to fail, so the %s/%s burn window (factor %s) would fire only above %s errors and can never fire; with these windows an objective must be at least %s",
		q.Text, percentText(allowed), worst.Long.Text, worst.Short.Text, worst.Factor.Text, percentText(need), strconv.FormatFloat(math.Ceil(least*10000)/100, 'f', -1, 64)+"%")
}

func percentText(r *big.Rat) string {
	return FormatRat(new(big.Rat).Mul(r, big.NewRat(100, 1))) + "%"
}

// percentHint suggests the percent sign for a ratio written as a number
// between 1 and 100: objective: 99 means 99%, not 99.
func percentHint(q Quantity) string {
	r := q.Rat()
	if q.Kind != Number || r.Cmp(big.NewRat(1, 1)) <= 0 || r.Cmp(big.NewRat(100, 1)) > 0 {
		return ""
	}
	return fmt.Sprintf("; did you mean %s%%?", q.Text)
}

// signalKeysFor lists the keys a signal of the given kind takes: the
// common ones and its kind's. An unknown kind gets every signal key.
func signalKeysFor(kind string) []string {
	all := yamlKeys(reflect.TypeFor[Signal]())
	k, ok := signalKinds[kind]
	if !ok {
		return all
	}
	own := k.keys()
	var kindSpecific []string
	for _, sk := range signalKinds {
		kindSpecific = append(kindSpecific, sk.keys()...)
	}
	var out []string
	for _, k := range all {
		if !slices.Contains(kindSpecific, k) || slices.Contains(own, k) {
			out = append(out, k)
		}
	}
	return out
}

func yamlKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	sort.Strings(out)
	return out
}

// mappingValue returns the scalar value of key in a mapping node, or "".
func mappingValue(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// unknownKeyMessage says that key is unknown, suggests the closest known
// key when one is near, and lists the known ones. A signal's known keys
// are those of its kind.
func unknownKeyMessage(t reflect.Type, n *yaml.Node, key string, known []string) string {
	what := ""
	if t == reflect.TypeFor[Signal]() {
		if kind := mappingValue(n, "kind"); kind != "" {
			if _, ok := signalKinds[kind]; ok {
				known = signalKeysFor(kind)
				what = " of a " + kind + " signal"
			}
		}
	}
	msg := fmt.Sprintf("unknown key %q", key)
	if s := hint.Closest(key, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg + fmt.Sprintf(" (known keys%s: %s)", what, strings.Join(known, ", "))
}
