// Package deploy holds the Kubernetes manifests of redline_exporter; its
// test decodes them strictly with the Kubernetes API and prometheus-operator
// Go types and checks that they fit together.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/redline-sre/redline/rulegen/render/kube"
)

// kustomization is the part of kustomize's Kustomization these manifests
// use; strict decoding rejects any other key.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Labels     []struct {
		Pairs map[string]string `json:"pairs"`
	} `json:"labels"`
	Resources []string `json:"resources"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

func decode(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := kube.DecodeStrict(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestManifests decodes every resource of the kustomization with its
// project's Go type (unknown fields are errors) and checks the wiring: the
// DSNs come from the Secret through the _FILE flags, the Service selects
// the pods and exposes their port, the ServiceMonitor selects the Service
// by a port it has, and the PrometheusRule is the generated one.
func TestManifests(t *testing.T) {
	var k kustomization
	decode(t, "kubernetes/kustomization.yaml", &k)
	if k.Kind != "Kustomization" || k.Namespace == "" {
		t.Fatalf("kustomization kind %q namespace %q", k.Kind, k.Namespace)
	}
	var (
		dep *appsv1.Deployment
		svc *corev1.Service
		sm  *monitoringv1.ServiceMonitor
		pr  *monitoringv1.PrometheusRule
	)
	for _, r := range k.Resources {
		path := filepath.Join("kubernetes", r)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var head metav1.TypeMeta
		if err := sigsyaml.Unmarshal(data, &head); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch head.Kind {
		case "Deployment":
			dep = &appsv1.Deployment{}
			decode(t, path, dep)
		case "Service":
			svc = &corev1.Service{}
			decode(t, path, svc)
		case "ServiceMonitor":
			sm = &monitoringv1.ServiceMonitor{}
			decode(t, path, sm)
		case "PrometheusRule":
			pr = &monitoringv1.PrometheusRule{}
			decode(t, path, pr)
		default:
			t.Errorf("%s: unexpected kind %q", path, head.Kind)
		}
	}
	if dep == nil || svc == nil || sm == nil || pr == nil {
		t.Fatalf("the kustomization lacks a Deployment, Service, ServiceMonitor or PrometheusRule")
	}

	pod := dep.Spec.Template
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want the exporter alone", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	var secretMount string
	for _, v := range pod.Spec.Volumes {
		if v.Secret != nil {
			secretMount = mounts[v.Name]
		}
	}
	if secretMount == "" {
		t.Fatal("no Secret volume mounted into the exporter")
	}
	// --headers.url-file too: without a header probe the platform spec's
	// SecurityHeaderMissing rollback trigger has no series to fire on.
	for _, flag := range []string{"--postgres.dsn-file=", "--pgbouncer.dsn-file=", "--eventloop.url-file=", "--headers.url-file="} {
		i := slices.IndexFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, flag) })
		if i < 0 || !strings.HasPrefix(strings.TrimPrefix(c.Args[i], flag), secretMount+"/") {
			t.Errorf("the exporter does not read %s from the mounted Secret (%s): args %v", flag, secretMount, c.Args)
		}
	}
	for _, a := range c.Args {
		if strings.Contains(a, "://") || strings.Contains(a, "password") {
			t.Errorf("argument %q holds a DSN; flags show in ps", a)
		}
	}
	if len(c.Env) > 0 || len(c.EnvFrom) > 0 {
		t.Errorf("the exporter gets environment variables %v; the DSNs belong in files", c.Env)
	}
	if sc := c.SecurityContext; sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("the exporter's root filesystem is writable")
	}

	for k, v := range svc.Spec.Selector {
		if pod.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, which the pods lack", k, v)
		}
	}
	if svc.Name != "redline" {
		t.Errorf("Service %q: the operator names the job after the Service, and the platform spec selects job=\"redline\"", svc.Name)
	}
	ports := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		ports[p.Name] = true
		if p.TargetPort.String() != c.Ports[0].Name && p.TargetPort.IntValue() != int(c.Ports[0].ContainerPort) {
			t.Errorf("Service port %s targets %s, not the exporter's port", p.Name, p.TargetPort.String())
		}
	}
	for k, v := range sm.Spec.Selector.MatchLabels {
		if svc.Labels[k] != v {
			t.Errorf("the ServiceMonitor selects %s=%s, which the Service lacks", k, v)
		}
	}
	for _, e := range sm.Spec.Endpoints {
		if !ports[e.Port] {
			t.Errorf("the ServiceMonitor scrapes port %q, which the Service lacks", e.Port)
		}
	}
	if pr.Namespace != k.Namespace || len(pr.Spec.Groups) == 0 {
		t.Errorf("PrometheusRule in %q with %d groups, want the generated rules in %q", pr.Namespace, len(pr.Spec.Groups), k.Namespace)
	}
}

// TestExporterAcceptsTheArguments runs the real exporter's --config.check
// with the Deployment's arguments, the Secret's files stood in for by
// temporary ones: a flag that does not exist fails here, not in a pod.
func TestExporterAcceptsTheArguments(t *testing.T) {
	var dep appsv1.Deployment
	decode(t, "kubernetes/deployment.yaml", &dep)
	dir := t.TempDir()
	bin := filepath.Join(dir, "redline_exporter")
	build := exec.Command("go", "build", "-o", bin, "../cmd/redline_exporter")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building redline_exporter: %v\n%s", err, out)
	}
	files := map[string]string{
		"postgres":      "postgres://redline:secret@127.0.0.1:5432/postgres",
		"pgbouncer":     "postgres://stats:secret@127.0.0.1:6432/pgbouncer",
		"eventloop-url": "http://127.0.0.1:8080/healthz",
		"headers-url":   "http://127.0.0.1:8080/",
	}
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var args []string
	for _, a := range dep.Spec.Template.Spec.Containers[0].Args {
		args = append(args, strings.ReplaceAll(a, "/etc/redline/dsn", dir))
	}
	out, err := exec.Command(bin, append(args, "--config.check")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redline_exporter %v --config.check: %v\n%s", args, err, out)
	}
	if strings.Contains(string(out), "secret") {
		t.Errorf("--config.check printed a password:\n%s", out)
	}
}
