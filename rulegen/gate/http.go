package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Flagger's webhook types the gate answers (flagger.app/v1beta1 hook
// types). Flagger calls the first three before a canary starts, at each
// step and before promotion, and goes on only on a 2xx answer; it calls
// rollback hooks while the canary runs and rolls back on a 2xx answer.
const (
	HookPreRollout       = "pre-rollout"
	HookRollout          = "rollout"
	HookConfirmPromotion = "confirm-promotion"
	// HookConfirmTrafficIncrease halts a step without counting a failed
	// check, unlike rollout: what the generated Canary uses, so that no
	// data halts the canary and never rolls it back.
	HookConfirmTrafficIncrease = "confirm-traffic-increase"
	HookRollback               = "rollback"
)

// Hooks are the Flagger hook types served under /flagger/.
var Hooks = []string{HookPreRollout, HookRollout, HookConfirmTrafficIncrease, HookConfirmPromotion, HookRollback}

// flaggerPayload is Flagger's webhook body (CanaryWebhookPayload).
type flaggerPayload struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Phase     string            `json:"phase"`
	Checksum  string            `json:"checksum"`
	Metadata  map[string]string `json:"metadata"`
}

// Handler serves the API, the webhooks, the war-room page, /metrics
// (with gatherer's collectors: Go, process, build info) and the probes.
func (g *Gate) Handler(gatherer prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/verdict", g.serveVerdict)
	mux.HandleFunc("POST /flagger/{hook}", g.serveFlagger)
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "OK") })
	mux.HandleFunc("GET /-/ready", g.serveReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /{$}", g.servePage)
	return mux
}

// status is the code of a verdict's answer: 200 on GO, 412 otherwise, so
// that a caller reading only the code (a webhook) stops. Argo Rollouts'
// web provider turns any non-2xx answer into a measurement error that
// hides the verdict, so the generated web metric asks with engine=argo
// and gets 200 with the verdict in the body, which its conditions read.
func status(v *Verdict, r *http.Request) int {
	if v.Verdict == GO || r.URL.Query().Get("engine") == "argo" {
		return http.StatusOK
	}
	return http.StatusPreconditionFailed
}

func (g *Gate) serveVerdict(w http.ResponseWriter, r *http.Request) {
	release, stage, err := g.ParseStage(r.URL.Query().Get("release"), r.URL.Query().Get("stage"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	k := Ask{Release: release, Stage: stage}
	if ws := r.URL.Query().Get("window"); ws != "" {
		// The judge's window: the stage's age, when the caller knows it
		// better than the ladder's step_duration.
		d, err := time.ParseDuration(ws)
		if err != nil || d <= 0 || d > 24*time.Hour {
			http.Error(w, fmt.Sprintf("window %q: want a duration such as 15m (at most 24h)", ws), http.StatusBadRequest)
			return
		}
		k.Window = d
	}
	v := g.Verdict(r.Context(), k)
	writeJSON(w, status(v, r), v)
}

func writeJSON(w http.ResponseWriter, code int, v *Verdict) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(v.JSON())
}

// serveFlagger answers a Flagger webhook. The release is the payload's
// metadata.release, else <namespace>.<name> of the Canary; the stage is
// metadata.stage, else 0 (Flagger's payload does not carry the weight).
// Gating hooks get 200 only on GO. The rollback hook is the other way
// round: Flagger rolls back when it answers 2xx, so it gets 200 only on
// NO_GO — NO_DATA halts the canary (the gating hooks fail) but does not
// roll it back.
func (g *Gate) serveFlagger(w http.ResponseWriter, r *http.Request) {
	hook := r.PathValue("hook")
	known := false
	for _, h := range Hooks {
		known = known || h == hook
	}
	if !known {
		http.Error(w, fmt.Sprintf("unknown hook %q: want one of %v", hook, Hooks), http.StatusNotFound)
		return
	}
	var p flaggerPayload
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&p); err != nil {
		http.Error(w, "the body is not Flagger's webhook payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	release := p.Metadata["release"]
	if release == "" && p.Name != "" {
		release = p.Name
		if p.Namespace != "" {
			release = p.Namespace + "." + p.Name
		}
	}
	stage := p.Metadata["stage"]
	if stage == "" {
		stage = "0"
	}
	release, n, err := g.ParseStage(release, stage)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	v := g.Verdict(r.Context(), Ask{Release: release, Stage: n, PreTraffic: hook == HookPreRollout})
	ok := v.Verdict == GO
	if hook == HookRollback {
		ok = v.Verdict == NoGo
	}
	code := http.StatusPreconditionFailed
	if ok {
		code = http.StatusOK
	}
	writeJSON(w, code, v)
}

// serveReady is 200 once Prometheus answers with the configured
// credentials: a gate that cannot read anything is not ready.
func (g *Gate) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := g.prom.Probe(ctx); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "OK")
}
