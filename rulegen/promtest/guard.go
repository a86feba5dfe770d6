package promtest

import (
	"fmt"
	"math"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/spec"
)

// guardCandidates are the constant values tried for a guard's series, from
// the plainest up: a process start time of -3600 is "an hour before the
// test began", 3600 "an hour into it".
var guardCandidates = []float64{0, 1, -1, 60, -60, 3600, -3600, 86400, -86400, 1e9, -1e9}

// guardInput adds the series a signal's guard reads, joined to the signal's
// series sig on the guard's on labels, with one constant value chosen so
// that the guard holds (met) or fails at every minute of the test. The
// guard is evaluated here by a small evaluator that covers numbers, time(),
// series selectors, arithmetic, comparisons and set operators, or is a
// quantile guard (quantileGuard); promtool then checks the real expression.
func guardInput(in *input, s *model.Signal, sig labelSet, met bool, minutes int) error {
	g := s.Guard
	expr, err := spec.Parser.ParseExpr(g.Expr)
	if err != nil {
		return fmt.Errorf("guard %q: %w", g.Expr, err)
	}
	on := map[string]string{}
	for _, l := range g.On {
		on[l] = sig[l]
	}
	if q, ok := quantileGuardOf(expr); ok {
		_, err := q.input(in, g.Expr, on, met, minutes)
		return err
	}
	var series []labelSet
	var walkErr error
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && walkErr == nil {
			l, err := seriesFor(vs, vs.Name, on)
			if err != nil {
				walkErr = err
				return err
			}
			for k, v := range on {
				if l[k] != v {
					walkErr = fmt.Errorf("guard %q: its series %s cannot carry %s=%q of the signal's series %s", g.Expr, vs, k, v, sig)
					return walkErr
				}
			}
			series = append(series, l)
		}
		return nil
	})
	if walkErr != nil {
		return walkErr
	}
	want := "fail"
	if met {
		want = "hold"
	}
	for _, c := range guardCandidates {
		ok := true
		for m := 0; m <= minutes && ok; m++ {
			_, present, err := evalGuard(expr, c, float64(m*60))
			if err != nil {
				return fmt.Errorf("cannot synthesize input for guard %q: %w", g.Expr, err)
			}
			ok = present == met
		}
		if !ok {
			continue
		}
		for _, l := range series {
			if err := in.addConst(l, c, minutes); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("cannot synthesize input for guard %q: no constant value of its series makes it %s for the whole test", g.Expr, want)
}

// evalGuard evaluates a guard at time t (seconds) when every series it
// selects has the value x. present is false when the result is empty.
func evalGuard(e parser.Expr, x, t float64) (v float64, present bool, err error) {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return n.Val, true, nil
	case *parser.ParenExpr:
		return evalGuard(n.Expr, x, t)
	case *parser.VectorSelector:
		return x, true, nil
	case *parser.UnaryExpr:
		v, present, err = evalGuard(n.Expr, x, t)
		if n.Op == parser.SUB {
			v = -v
		}
		return v, present, err
	case *parser.Call:
		switch {
		case n.Func.Name == "time" && len(n.Args) == 0:
			return t, true, nil
		case (n.Func.Name == "vector" || n.Func.Name == "scalar") && len(n.Args) == 1:
			return evalGuard(n.Args[0], x, t)
		}
		return 0, false, fmt.Errorf("function %s() is not supported in guards", n.Func.Name)
	case *parser.BinaryExpr:
		return evalBinary(n, x, t)
	}
	return 0, false, fmt.Errorf("%q is not supported in guards (numbers, time(), series selectors, arithmetic, comparisons and and/or/unless are)", e.String())
}

func evalBinary(n *parser.BinaryExpr, x, t float64) (float64, bool, error) {
	a, okA, err := evalGuard(n.LHS, x, t)
	if err != nil {
		return 0, false, err
	}
	b, okB, err := evalGuard(n.RHS, x, t)
	if err != nil {
		return 0, false, err
	}
	switch n.Op {
	case parser.LAND:
		return a, okA && okB, nil
	case parser.LOR:
		if okA {
			return a, true, nil
		}
		return b, okB, nil
	case parser.LUNLESS:
		return a, okA && !okB, nil
	}
	if !okA || !okB {
		return 0, false, nil
	}
	if n.Op.IsComparisonOperator() {
		var holds bool
		switch n.Op {
		case parser.EQLC:
			holds = a == b
		case parser.NEQ:
			holds = a != b
		case parser.GTR:
			holds = a > b
		case parser.LSS:
			holds = a < b
		case parser.GTE:
			holds = a >= b
		case parser.LTE:
			holds = a <= b
		}
		if n.ReturnBool {
			if holds {
				return 1, true, nil
			}
			return 0, true, nil
		}
		return a, holds, nil
	}
	switch n.Op {
	case parser.ADD:
		return a + b, true, nil
	case parser.SUB:
		return a - b, true, nil
	case parser.MUL:
		return a * b, true, nil
	case parser.DIV:
		return a / b, true, nil
	case parser.MOD:
		return math.Mod(a, b), true, nil
	case parser.POW:
		return math.Pow(a, b), true, nil
	}
	return 0, false, fmt.Errorf("operator %s is not supported in guards", n.Op)
}
