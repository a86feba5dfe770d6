package spec

import (
	"strconv"
	"strings"

	"github.com/redline-sre/redline/rulegen/render/dashboard/grafana/variables"
)

func (v *validator) dashboard(d *Dashboard) {
	if d.Title == "" {
		v.missing("dashboard", "title")
	}
	if len(d.Panels) == 0 {
		v.missing("dashboard", "panels")
	}
	for i := range d.Panels {
		p := &d.Panels[i]
		path := "dashboard.panels[" + strconv.Itoa(i) + "]"
		switch {
		case p.Signal != "" && p.Expr != "":
			v.errorf(path+".expr", "a panel shows either a signal or an expr, not both")
		case p.Signal != "":
			if v.s.SignalByName(p.Signal) == nil {
				v.errorf(path+".signal", "unknown signal %q", p.Signal)
			}
		case p.Expr != "":
			if p.Title == "" {
				v.missing(path, "title", " (a panel with expr needs a title)")
			}
			v.panelExpr(path+".expr", &p.Expr)
		default:
			v.errorf(path, "a panel needs signal or expr")
		}
		if p.Unit != "" && !oneOf(p.Unit, units) {
			v.errorf(path+".unit", "unknown unit %q (want %s)", p.Unit, strings.Join(units, ", "))
		}
		v.panelView(path, p)
	}
}

// panelView checks how a panel is drawn.
func (v *validator) panelView(path string, p *Panel) {
	if !oneOf(p.Type, []string{PanelTimeseries, PanelStat, PanelGauge}) {
		v.errorf(path+".type", "unknown panel type %q (want timeseries, stat or gauge)", p.Type)
	}
}

// panelExpr expands selectors in a panel's query and parses it with
// Grafana's variables ($__rate_interval, $track, ...) interpolated.
func (v *validator) panelExpr(path string, field *string) {
	s, ok := v.expand(path, *field)
	if !ok {
		return
	}
	vars := []string{"datasource"}
	if v.s.Canary != nil {
		vars = append(vars, "track")
	}
	q, err := variables.Interpolate(s, vars)
	if err != nil {
		v.errorf(path, "%s", err)
		return
	}
	if _, err := Parser.ParseExpr(q); err != nil {
		v.errorf(path, "invalid PromQL in %q: %s", s, promqlMessage(err))
		return
	}
	*field = s
}
