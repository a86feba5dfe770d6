package gate

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redline-sre/redline/rulegen/render/dashboard"
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"lower": func(o Outcome) string { return strings.ToLower(string(o)) },
	"time":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"short": short,
}).Parse(pageHTML))

type link struct{ Title, URL string }

type pageData struct {
	V          *Verdict
	Title      string
	Refresh    int
	Budgets    []Check
	Blocking   []Check
	Dashboards []link
	API        string
	Stages     []link
}

// servePage is the war-room page: the verdict of ?release=&stage= (the
// newest one evaluated without them, else the service's stage 0), each
// check with its value, what healthy is and why, the error budgets and
// the dashboards. Server-rendered, refreshed by the browser.
func (g *Gate) servePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var v *Verdict
	if q.Get("stage") == "" && q.Get("release") == "" {
		v = g.Last()
	}
	if v == nil {
		stage := q.Get("stage")
		if stage == "" {
			stage = "0"
		}
		release, n, err := g.ParseStage(q.Get("release"), stage)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		v = g.Verdict(r.Context(), Ask{Release: release, Stage: n})
	}
	d := pageData{V: v, Title: g.stageTitle(v), Refresh: int(g.cfg.Refresh.Seconds()), Budgets: budgets(v),
		API: "/api/v1/verdict?" + url.Values{"release": {v.Release}, "stage": {strconv.Itoa(v.Stage)}}.Encode()}
	for n := 0; n <= g.stages(); n++ {
		d.Stages = append(d.Stages, link{strconv.Itoa(n), "/?" + url.Values{"release": {v.Release}, "stage": {strconv.Itoa(n)}}.Encode()})
	}
	for _, c := range v.Checks {
		if c.Required && c.Outcome != GO {
			d.Blocking = append(d.Blocking, c)
		}
	}
	base := strings.TrimSuffix(g.cfg.GrafanaURL, "/")
	if g.m.Dashboard != nil {
		d.Dashboards = append(d.Dashboards, link{g.m.Dashboard.Title, base + "/d/" + g.m.Dashboard.UID})
	}
	if len(g.m.Budgets) > 0 {
		d.Dashboards = append(d.Dashboards, link{"SLO error budgets", base + "/d/" + dashboard.SLOUID(g.m)})
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, d); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}
