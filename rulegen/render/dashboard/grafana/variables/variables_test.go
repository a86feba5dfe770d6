package variables

import "testing"

func TestInterpolate(t *testing.T) {
	vars := []string{"datasource", "track"}
	for in, want := range map[string]string{
		`rate(x[$__rate_interval])`:                      `rate(x[1m])`,
		`rate(x[${__rate_interval}]) offset $__interval`: `rate(x[1m]) offset 1m`,
		`sum_over_time(x[$__range])`:                     `sum_over_time(x[6h])`,
		`x{track=~"$track", ds="${datasource}"}`:         `x{track=~"value", ds="value"}`,
		`label_replace(x, "a", "$1", "b", "(.*)")`:       `label_replace(x, "a", "$1", "b", "(.*)")`,
		`x{re=~"^a$|b$"}`:                                `x{re=~"^a$|b$"}`,
	} {
		got, err := Interpolate(in, vars)
		if err != nil || got != want {
			t.Errorf("Interpolate(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	_, err := Interpolate(`x{a="$nope"}[$__rate_intervall]`, vars)
	if err == nil || err.Error() != "unknown Grafana variable $nope, $__rate_intervall (known: $__rate_interval, $__interval, $__range, $datasource, $track)" {
		t.Errorf("err = %v", err)
	}
}
