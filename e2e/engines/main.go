// Command engines runs generated canary checks through the engines' own
// code, once per Prometheus address, and prints the outcome as JSON:
//
//	engines argo -template <AnalysisTemplate> -prometheus <url,...>
//	engines flagger -templates <MetricTemplates> -prometheus <url,...> -target <name>
//
// argo runs an AnalysisRun per address through Argo Rollouts' analysis
// controller (its Prometheus provider, evaluation and limits) on fake
// Kubernetes clients; flagger renders each MetricTemplate with Flagger's
// renderer and runs it with Flagger's Prometheus provider, as Flagger's
// scheduler does each interval.
//
// It is a module of its own because Argo Rollouts v1.10.1 builds only
// with the client_golang and Kubernetes versions it pins (its Prometheus
// provider does not compile against redline's newer client_golang); the
// e2e test builds it and feeds it the generated files.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/argoproj/argo-rollouts/analysis"
	"github.com/argoproj/argo-rollouts/controller/metrics"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	argofake "github.com/argoproj/argo-rollouts/pkg/client/clientset/versioned/fake"
	argoinformers "github.com/argoproj/argo-rollouts/pkg/client/informers/externalversions"
	"github.com/argoproj/argo-rollouts/utils/queue"
	"github.com/argoproj/argo-rollouts/utils/record"
	log "github.com/sirupsen/logrus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	kubeinformers "k8s.io/client-go/informers"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/yaml"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/fluxcd/flagger/pkg/metrics/observers"
	"github.com/fluxcd/flagger/pkg/metrics/providers"
)

// Metric is one metric's outcome.
type Metric struct {
	Name                                     string
	Phase                                    v1alpha1.AnalysisPhase
	Successful, Inconclusive, Failed, Errors int32
	Last                                     string
}

// Run is one AnalysisRun's outcome.
type Run struct {
	Prometheus string
	Phase      v1alpha1.AnalysisPhase
	Message    string
	Metrics    []Metric
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: engines argo|flagger [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	proms := fs.String("prometheus", "", "comma-separated Prometheus URLs")
	var (
		out any
		err error
	)
	switch os.Args[1] {
	case "argo":
		template := fs.String("template", "", "AnalysisTemplate YAML file")
		interval := fs.String("interval", "", "replace every metric's interval")
		count := fs.Int("count-over-limit", -1, "set every metric's count to its inconclusiveLimit plus this (-1: keep)")
		timeout := fs.Duration("timeout", 4*time.Minute, "how long the runs may take")
		_ = fs.Parse(os.Args[2:])
		out, err = run(*template, strings.Split(*proms, ","), *interval, *count, *timeout)
	case "flagger":
		templates := fs.String("templates", "", "MetricTemplates YAML file")
		target := fs.String("target", "", "the Canary's target name")
		_ = fs.Parse(os.Args[2:])
		out, err = queries(*templates, strings.Split(*proms, ","), *target)
	default:
		err = fmt.Errorf("unknown engine %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "engines:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func run(path string, proms []string, interval string, countOver int, timeout time.Duration) ([]Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tmpl v1alpha1.AnalysisTemplate
	if err := yaml.UnmarshalStrict(data, &tmpl); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	log.SetOutput(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := argofake.NewSimpleClientset()
	kube := k8sfake.NewSimpleClientset()
	informers := argoinformers.NewSharedInformerFactory(client, 0)
	kubeInformers := kubeinformers.NewSharedInformerFactory(kube, 0)
	c := analysis.NewController(analysis.ControllerConfig{
		KubeClientSet:        kube,
		ArgoProjClientset:    client,
		AnalysisRunInformer:  informers.Argoproj().V1alpha1().AnalysisRuns(),
		JobInformer:          kubeInformers.Batch().V1().Jobs(),
		JobPodsInformer:      kubeInformers.Core().V1().Pods(),
		AnalysisRunWorkQueue: workqueue.NewNamedRateLimitingQueue(queue.DefaultArgoRolloutsRateLimiter(), "AnalysisRuns"),
		MetricsServer:        metrics.NewMetricsServer(metrics.ServerConfig{Addr: "127.0.0.1:0", K8SRequestProvider: &metrics.K8sRequestsCountProvider{}}),
		Recorder:             record.NewFakeEventRecorder(),
	})
	informers.Start(ctx.Done())
	kubeInformers.Start(ctx.Done())
	go func() { _ = c.Run(ctx, 4) }()

	ns := "default"
	name := func(i int) string { return fmt.Sprintf("run-%d", i) }
	for i, prom := range proms {
		ar := &v1alpha1.AnalysisRun{
			ObjectMeta: metav1.ObjectMeta{Name: name(i), Namespace: ns},
			// The template's args with their defaults, as a Rollout that
			// passes none would.
			Spec: v1alpha1.AnalysisRunSpec{Args: tmpl.Spec.Args},
		}
		for _, mt := range tmpl.Spec.Metrics {
			if interval != "" {
				mt.Interval = v1alpha1.DurationString(interval)
			}
			if countOver >= 0 && mt.InconclusiveLimit != nil {
				// Argo refuses a count below the failureLimit.
				n := mt.InconclusiveLimit.IntValue() + countOver
				if mt.FailureLimit != nil {
					n = max(n, mt.FailureLimit.IntValue())
				}
				c := intstr.FromInt(n)
				mt.Count = &c
			}
			p := *mt.Provider.Prometheus
			p.Address = prom
			mt.Provider.Prometheus = &p
			ar.Spec.Metrics = append(ar.Spec.Metrics, mt)
		}
		if _, err := client.ArgoprojV1alpha1().AnalysisRuns(ns).Create(ctx, ar, metav1.CreateOptions{}); err != nil {
			return nil, err
		}
	}
	out := make([]Run, len(proms))
	done := 0
	deadline := time.Now().Add(timeout)
	for done < len(proms) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d AnalysisRuns completed in %s", done, len(proms), timeout)
		}
		time.Sleep(500 * time.Millisecond)
		done = 0
		for i, prom := range proms {
			ar, err := client.ArgoprojV1alpha1().AnalysisRuns(ns).Get(ctx, name(i), metav1.GetOptions{})
			if err != nil || !ar.Status.Phase.Completed() {
				continue
			}
			done++
			r := Run{Prometheus: prom, Phase: ar.Status.Phase, Message: ar.Status.Message}
			for _, m := range ar.Status.MetricResults {
				last := "none"
				if n := len(m.Measurements); n > 0 {
					l := m.Measurements[n-1]
					last = fmt.Sprintf("%s %q %s", l.Phase, l.Value, l.Message)
				}
				r.Metrics = append(r.Metrics, Metric{Name: m.Name, Phase: m.Phase, Successful: m.Successful,
					Inconclusive: m.Inconclusive, Failed: m.Failed, Errors: m.Error, Last: last})
			}
			out[i] = r
		}
	}
	return out, nil
}

// Query is one Flagger query's outcome.
type Query struct {
	Prometheus, Name, Query string
	Value                   float64
	Error                   string
	// NoValues is Flagger's "no values found": the check halts the
	// canary and counts as failed (scheduler_metrics.go).
	NoValues bool
}

func queries(path string, proms []string, target string) ([]Query, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var templates []flaggerv1.MetricTemplate
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var t flaggerv1.MetricTemplate
		if err := yaml.UnmarshalStrict([]byte(doc), &t); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if t.Name != "" {
			templates = append(templates, t)
		}
	}
	model := flaggerv1.MetricTemplateModel{Name: target, Namespace: "default", Target: target, Service: target, Interval: "1m"}
	var out []Query
	for _, prom := range proms {
		p, err := providers.NewPrometheusProvider(flaggerv1.MetricTemplateProvider{Type: "prometheus", Address: prom}, nil)
		if err != nil {
			return nil, err
		}
		for _, t := range templates {
			q, err := observers.RenderQuery(t.Spec.Query, model)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.Name, err)
			}
			r := Query{Prometheus: prom, Name: t.Name, Query: q}
			if r.Value, err = p.RunQuery(q); err != nil {
				r.Error, r.NoValues = err.Error(), errors.Is(err, providers.ErrNoValuesFound)
			}
			out = append(out, r)
		}
	}
	return out, nil
}
