package spec

import (
	"math/big"
	"net/url"
	"regexp"
	"strings"
)

// kubeNameRE is a DNS-1123 subdomain, what Kubernetes accepts as a name.
var kubeNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

func (v *validator) kubeName(path, name string, required bool) {
	switch {
	case name == "" && required:
		v.errorf(path, "missing key %q", path[strings.LastIndex(path, ".")+1:])
	case name != "" && (len(name) > 253 || !kubeNameRE.MatchString(name)):
		v.errorf(path, "%q is not a Kubernetes name (lower case letters, digits, - and .)", name)
	}
}

func (v *validator) httpURL(path, u string) {
	if u == "" {
		v.errorf(path, "missing key %q", path[strings.LastIndex(path, ".")+1:])
		return
	}
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		v.errorf(path, "must be an http or https URL")
	}
}

// count checks a whole number of at least min.
func (v *validator) count(path string, q *Quantity, min int64) {
	if q == nil {
		return
	}
	if q.Kind != Number || !q.Rat().IsInt() || q.Rat().Cmp(big.NewRat(min, 1)) < 0 {
		v.errorf(path, "must be a whole number of at least %d, got %s", min, q.Text)
	}
}

func (v *validator) outputs(o *Outputs) {
	if o == nil {
		return
	}
	if strings.HasPrefix(o.Dir, "/") || strings.Contains("/"+o.Dir+"/", "/../") {
		v.errorf("outputs.dir", "dir must be a relative path inside the output directory")
	}
	if r := o.PrometheusRule; r != nil {
		v.kubeName("outputs.prometheus_rule.name", r.Name, true)
		v.kubeName("outputs.prometheus_rule.namespace", r.Namespace, true)
		v.kubeLabels("outputs.prometheus_rule.labels", r.Labels)
	}
	needCanary := func(path string) {
		c := v.s.Canary
		if c == nil || len(c.Steps) == 0 || len(c.Selectors) == 0 {
			v.errorf(path, "needs canary: with steps (the stage ladder) and selectors (the series the canary's pods report)")
		}
	}
	if a := o.ArgoRollouts; a != nil {
		needCanary("outputs.argo_rollouts")
		v.kubeName("outputs.argo_rollouts.name", a.Name, true)
		v.kubeName("outputs.argo_rollouts.rollout", a.Rollout, true)
		if a.ClusterScope && a.Namespace != "" {
			v.errorf("outputs.argo_rollouts.namespace", "a ClusterAnalysisTemplate (cluster_scope: true) has no namespace")
		}
		v.kubeName("outputs.argo_rollouts.namespace", a.Namespace, !a.ClusterScope)
		v.httpURL("outputs.argo_rollouts.prometheus", a.Prometheus)
		if a.Interval.Duration < MustDuration("10s").Duration {
			v.errorf("outputs.argo_rollouts.interval", "interval must be at least 10s, got %s", a.Interval.Text)
		}
		v.count("outputs.argo_rollouts.count", a.Count, 1)
		v.count("outputs.argo_rollouts.failure_limit", a.FailureLimit, 0)
		v.count("outputs.argo_rollouts.inconclusive_limit", a.InconclusiveLimit, 0)
		// Argo counts Inconclusive measurements over the whole run and
		// calls a metric Successful at count while they are within the
		// limit: a limit of count or more lets a metric that never answers
		// pass.
		if a.Count != nil && a.InconclusiveLimit != nil && a.InconclusiveLimit.Rat().Cmp(a.Count.Rat()) >= 0 {
			v.errorf("outputs.argo_rollouts.inconclusive_limit", "inconclusive_limit (%s) must be less than count (%s): Argo Rollouts calls a metric Successful at count while its Inconclusive measurements are within the limit, so a metric that never answers would pass", a.InconclusiveLimit.Text, a.Count.Text)
		}
	}
	if f := o.Flagger; f != nil {
		needCanary("outputs.flagger")
		v.kubeName("outputs.flagger.canary", f.Canary, true)
		v.kubeName("outputs.flagger.namespace", f.Namespace, true)
		v.httpURL("outputs.flagger.prometheus", f.Prometheus)
		if f.Interval.Duration < MustDuration("10s").Duration {
			v.errorf("outputs.flagger.interval", "interval must be at least 10s, got %s", f.Interval.Text)
		}
		v.count("outputs.flagger.threshold", f.Threshold, 1)
		if !labelNameRE.MatchString(f.Label) {
			v.errorf("outputs.flagger.label", "invalid label name %q", f.Label)
		}
		if f.RollbackHook != "" {
			v.httpURL("outputs.flagger.rollback_hook", f.RollbackHook)
		}
	}
	if g := o.Gate; g != nil {
		v.httpURL("outputs.gate.url", g.URL)
	}
	if mi := o.Mimir; mi != nil {
		if strings.ContainsAny(mi.Namespace, "/\\") {
			v.errorf("outputs.mimir.namespace", "a ruler namespace cannot contain / or \\")
		}
	}
}

// kubeLabels checks Kubernetes label keys (an optional DNS prefix and a
// name) and values.
var (
	kubeLabelNameRE  = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	kubeLabelValueRE = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
)

func (v *validator) kubeLabels(path string, m map[string]string) {
	for _, k := range sortedKeys(m) {
		if !kubeLabelNameRE.MatchString(k) {
			v.errorf(path+"."+k, "%q is not a Kubernetes label key", k)
		}
		if !kubeLabelValueRE.MatchString(m[k]) {
			v.errorf(path+"."+k, "%q is not a Kubernetes label value (at most 63 letters, digits, -, _ and .)", m[k])
		}
	}
}
