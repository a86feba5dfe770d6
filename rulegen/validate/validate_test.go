package validate

import (
	"strings"
	"testing"
)

// TestTestsParsesSeriesAndExpressions: a test file whose input series or
// expression Prometheus's parser rejects fails, naming the test; one it
// accepts passes.
func TestTestsParsesSeriesAndExpressions(t *testing.T) {
	const file = `rule_files: [x.yml]
tests:
  - name: t1
    interval: 1m
    input_series:
      - series: 'up{job="a"}'
        values: '%s'
    promql_expr_test:
      - expr: '%s'
        eval_time: 1m
        exp_samples: []
`
	for _, c := range []struct{ values, expr, want string }{
		{"1+0x10", "up == 1", ""},
		{"1+0x10 oops", "up == 1", `test "t1": series up{job="a"}`},
		{"1+0x10", "sum(up", `test "t1": expr sum(up`},
	} {
		err := Tests([]byte(fmtFile(file, c.values, c.expr)))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("values %q, expr %q: %v", c.values, c.expr, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("values %q, expr %q: got %v, want an error containing %q", c.values, c.expr, err, c.want)
		}
	}
}

func fmtFile(f, values, expr string) string {
	f = strings.Replace(f, "%s", values, 1)
	return strings.Replace(f, "%s", expr, 1)
}
