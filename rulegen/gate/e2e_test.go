package gate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/metricproviders/webmetric"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	analysisutil "github.com/argoproj/argo-rollouts/utils/analysis"
	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/redline-sre/redline/internal/testenv"
	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/preflight"
	"github.com/redline-sre/redline/rulegen/render/argo"
	"github.com/redline-sre/redline/rulegen/render/flagger"
	"github.com/redline-sre/redline/rulegen/spec"
)

// workload is the shop's two tracks as a scrape target: counters growing
// at the mode's per-second rates (high, so that a 5m rate over the few
// seconds Prometheus has scraped clears the 0.5/s low-traffic guard).
type workload struct {
	mu     sync.Mutex
	mode   string
	counts map[string]float64
	last   time.Time
}

// The modes: healthy has 0.1% errors on both tracks; breach 17% on the
// canary; gone serves no series at all (the source series removed).
var modes = map[string]map[string]float64{
	"healthy": {`stable,200`: 1000, `stable,500`: 1, `canary,200`: 1000, `canary,500`: 1},
	"breach":  {`stable,200`: 1000, `stable,500`: 1, `canary,200`: 1000, `canary,500`: 200},
	"gone":    {},
	// regressed: the canary fails 1.6 times as often as the baseline —
	// under the threshold comparison's factor 2 and the service-wide 1%,
	// so only the statistical judge can catch it.
	"regressed": {`stable,200`: 1000, `stable,500`: 5, `canary,200`: 1000, `canary,500`: 8},
	// never-failed: a service that has never answered a 5xx, whose client
	// library creates the code="500" series only on the first one: no
	// error series exists on either track.
	"never-failed": {`stable,200`: 1000, `canary,200`: 1000},
}

func (w *workload) set(mode string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advance()
	w.mode = mode
}

// advance grows the counters at the current mode's rates since the last
// call, so that a mode change changes the rates, not the totals.
func (w *workload) advance() {
	now := time.Now()
	el := now.Sub(w.last).Seconds()
	w.last = now
	for k, r := range modes[w.mode] {
		w.counts[k] += r * el
	}
}

func (w *workload) ServeHTTP(rw http.ResponseWriter, _ *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.advance()
	for k := range modes[w.mode] {
		track, code, _ := strings.Cut(k, ",")
		fmt.Fprintf(rw, "http_requests_total{track=%q,code=%q} %g\n", track, code, 100+w.counts[k])
	}
}

type stack struct {
	m        *model.Model
	tmpl     *v1alpha1.AnalysisTemplateSpec
	hooks    []flaggerv1.CanaryWebhook
	gateURL  string
	prom     *testenv.Prometheus
	work     *workload
	evidence string
}

// startStack runs the workload, a real Prometheus with the rules
// generated from testdata/shop.spec.yml, and the gate in front of it; the
// spec's outputs.gate.url points at the gate, so the AnalysisTemplate's
// web metrics and the Canary's webhooks are the generated ones.
func startStack(t *testing.T, opts ...func(*gate.Config)) *stack {
	t.Helper()
	return startStackIn(t, "healthy", opts...)
}

// startStackIn is startStack with the workload in mode from its first
// scrape on.
func startStackIn(t *testing.T, mode string, opts ...func(*gate.Config)) *stack {
	t.Helper()
	testenv.Binary(t, "prometheus")
	s, err := spec.LoadFile("testdata/shop.spec.yml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := rulegen.Generate(s, "shop.spec.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var rules string
	for _, f := range files {
		if strings.HasPrefix(f.Path, "rules/") && strings.HasSuffix(f.Path, ".rules.yml") {
			rules = filepath.Join(dir, "shop.rules.yml")
			if err := os.WriteFile(rules, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rules == "" {
		t.Fatal("no rule file generated")
	}
	w := &workload{mode: mode, counts: map[string]float64{}, last: time.Now()}
	target := httptest.NewServer(w)
	t.Cleanup(target.Close)
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{
		Scrape:    []testenv.ScrapeTarget{{Job: "shop", Targets: []string{strings.TrimPrefix(target.URL, "http://")}}},
		RuleFiles: []string{rules},
	})
	m, err := model.Build(s, "shop.spec.yml")
	if err != nil {
		t.Fatal(err)
	}
	st := &stack{m: m, prom: prom, work: w, evidence: filepath.Join(dir, "evidence")}
	reg := prometheus.NewRegistry()
	cfg := gate.Config{Model: m, Server: preflight.Server{URL: prom.URL}, SpecSHA256: "test",
		EvidenceDir: st.evidence, CacheTTL: 200 * time.Millisecond, Timeout: 20 * time.Second, Registry: reg}
	for _, o := range opts {
		o(&cfg)
	}
	g, err := gate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler(reg))
	t.Cleanup(srv.Close)
	st.gateURL = srv.URL
	m.Outputs.Gate.URL = srv.URL
	if st.tmpl, _, err = argo.Template(m); err != nil {
		t.Fatal(err)
	}
	for _, h := range flagger.Analysis(m).Webhooks {
		if strings.HasPrefix(h.URL, srv.URL) {
			st.hooks = append(st.hooks, h)
		}
	}
	if len(st.hooks) != len(flagger.GateHooks) {
		t.Fatalf("the Canary patch has %d gate webhooks, want %d", len(st.hooks), len(flagger.GateHooks))
	}
	return st
}

var quiet = func() logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return *logrus.NewEntry(l)
}()

// argoStage measures the template's web metrics for a stage the way an
// AnalysisRun does: the run's args merged over the template's, each metric
// resolved with them (utils/analysis), then Argo's web provider sends the
// request and its evaluator judges the value. It returns each metric's
// measurement and the run's phase (the worst).
func (s *stack) argoStage(t *testing.T, release string, stage int) (map[string]v1alpha1.Measurement, v1alpha1.AnalysisPhase) {
	t.Helper()
	n := fmt.Sprint(stage)
	args, err := analysisutil.MergeArgs([]v1alpha1.Argument{{Name: argo.ArgStage, Value: &n}, {Name: argo.ArgRelease, Value: &release}}, s.tmpl.Args)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]v1alpha1.Measurement{}
	phase := v1alpha1.AnalysisPhaseSuccessful
	for _, mt := range s.tmpl.Metrics {
		if mt.Provider.Web == nil {
			continue
		}
		resolved, err := analysisutil.ResolveMetricArgs(mt, args)
		if err != nil {
			t.Fatal(err)
		}
		client, err := webmetric.NewWebMetricHttpClient(*resolved)
		if err != nil {
			t.Fatal(err)
		}
		parser, err := webmetric.NewWebMetricJsonParser(*resolved)
		if err != nil {
			t.Fatal(err)
		}
		meas := webmetric.NewWebMetricProvider(quiet, client, parser).Run(&v1alpha1.AnalysisRun{}, *resolved)
		out[mt.Name] = meas
		phase = analysisutil.Worst(phase, meas.Phase)
	}
	if len(out) != 2 {
		t.Fatalf("the template has %d web metrics, want 2", len(out))
	}
	return out, phase
}

// until measures a stage every second until the run's phase is want.
func (s *stack) until(t *testing.T, release string, stage int, want v1alpha1.AnalysisPhase, within time.Duration) map[string]v1alpha1.Measurement {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		meas, phase := s.argoStage(t, release, stage)
		if phase == want {
			return meas
		}
		if time.Now().After(deadline) {
			t.Fatalf("stage %d is %s after %s, want %s; measurements %+v; verdict %s", stage, phase, within, want, meas, s.verdictText(t, release, stage))
		}
		time.Sleep(time.Second)
	}
}

func (s *stack) verdict(t *testing.T, release string, stage int) (int, *gate.Verdict) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/api/v1/verdict?release=%s&stage=%d", s.gateURL, release, stage))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v gate.Verdict
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, &v
}

func (s *stack) verdictText(t *testing.T, release string, stage int) string {
	_, v := s.verdict(t, release, stage)
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", v.Verdict)
	for _, c := range v.Checks {
		if c.Outcome != gate.GO {
			fmt.Fprintf(&b, " [%s %s %s: %s]", c.Outcome, c.Name, c.Value, c.Reason)
		}
	}
	return b.String()
}

// flaggerHooks calls every generated gate webhook, and the rollout hook,
// with Flagger's own webhook code (pkg/controller CallWebhook, built from
// testdata/flaggerhook: Flagger v1.36.1 needs Kubernetes packages older
// than this module's); it returns which succeeded (2xx).
func (s *stack) flaggerHooks(t *testing.T) map[flaggerv1.HookType]bool {
	t.Helper()
	bin := flaggerHookBin(t)
	hooks := append([]flaggerv1.CanaryWebhook{}, s.hooks...)
	hooks = append(hooks, flaggerv1.CanaryWebhook{Name: "rollout", Type: flaggerv1.RolloutHook, URL: s.gateURL + "/flagger/rollout"})
	args := []string{"shop", "shop"}
	for _, h := range hooks {
		args = append(args, string(h.Type)+"="+h.URL)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("flaggerhook: %v\n%s", err, out)
	}
	res := map[flaggerv1.HookType]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		typ, ok, _ := strings.Cut(line, " ")
		res[flaggerv1.HookType(typ)] = strings.HasPrefix(ok, "ok")
	}
	if len(res) != len(hooks) {
		t.Fatalf("flaggerhook answered %d hooks, want %d:\n%s", len(res), len(hooks), out)
	}
	return res
}

var flaggerHook struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// flaggerHookBin builds testdata/flaggerhook once per test binary.
func flaggerHookBin(t *testing.T) string {
	t.Helper()
	flaggerHook.once.Do(func() {
		dir, err := os.MkdirTemp("", "flaggerhook")
		if err != nil {
			flaggerHook.err = err
			return
		}
		flaggerHook.bin = filepath.Join(dir, "flaggerhook")
		cmd := exec.Command("go", "build", "-o", flaggerHook.bin, ".")
		cmd.Dir = filepath.Join("testdata", "flaggerhook")
		flaggerHook.out, flaggerHook.err = cmd.CombinedOutput()
	})
	if flaggerHook.err != nil {
		if !testenv.InCI() {
			// Offline without the module cache: Flagger's code cannot be
			// fetched. CI has it and must not skip.
			t.Skipf("building testdata/flaggerhook (Flagger's webhook client): %v\n%s", flaggerHook.err, flaggerHook.out)
		}
		t.Fatalf("building testdata/flaggerhook (Flagger's webhook client): %v\n%s", flaggerHook.err, flaggerHook.out)
	}
	return flaggerHook.bin
}

// checkEvidence runs sha256sum -c in a stage's directory and checks the
// stage's files are there.
func (s *stack) checkEvidence(t *testing.T, release string, stage int) {
	t.Helper()
	dir := filepath.Join(s.evidence, release, fmt.Sprintf("stage-%d", stage))
	for _, f := range []string{fmt.Sprintf("rollout_stage_%d.txt", stage), fmt.Sprintf("summary_stage_%d.txt", stage), "checks.json", "SHA256SUMS"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("evidence: %v", err)
		}
	}
	// The spec reads no database or pgBouncer metric: those files are
	// left out rather than written empty.
	for _, f := range []string{fmt.Sprintf("db_health_stage_%d.txt", stage), fmt.Sprintf("pgbouncer_stage_%d.txt", stage)} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("evidence: %s written for a spec without such signals", f)
		}
	}
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	cmd := exec.Command("sha256sum", "--strict", "-c", "SHA256SUMS")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c in %s: %v\n%s", dir, err, out)
	}
}

// TestArgoAndFlaggerFollowTheGate drives a canary through the five stages
// of the spec's ladder with Argo Rollouts' and Flagger's own code asking
// the gate: healthy is Successful at every stage (Flagger's hooks pass,
// its rollback hook does not fire); the source series removed is
// Inconclusive, never Successful (Flagger halts, does not roll back); a
// breach at stage 3 is Failed with the check named in the measurement
// (Flagger's hooks fail and its rollback hook fires).
// TestGateOnAServiceThatNeverFailed: a ratio whose error series has
// never existed, with traffic, is 0 errors — GO through the gate, Argo's
// web metric Successful and Flagger's gating hooks passing — not no data.
func TestGateOnAServiceThatNeverFailed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	s := startStackIn(t, "never-failed")
	const release = "shop-never-failed"
	s.until(t, release, 1, v1alpha1.AnalysisPhaseSuccessful, 2*time.Minute)
	p, err := preflight.Connect(preflight.Server{URL: s.prom.URL})
	if err != nil {
		t.Fatal(err)
	}
	errs, _, err := p.Query(context.Background(), `count(http_requests_total{code="500"})`, time.Now(), 5*time.Second)
	if err != nil || len(errs) != 0 {
		t.Fatalf("the workload has error series: %v %v", errs, err)
	}
	for _, stage := range []int{1, 3, 5} {
		code, v := s.verdict(t, release, stage)
		if code != http.StatusOK || v.Verdict != gate.GO {
			t.Errorf("stage %d: %d %s", stage, code, s.verdictText(t, release, stage))
		}
	}
	for h, ok := range s.flaggerHooks(t) {
		if want := h != flaggerv1.RollbackHook; ok != want {
			t.Errorf("Flagger %s hook on a service that never failed: succeeded %v, want %v", h, ok, want)
		}
	}
}

func TestArgoAndFlaggerFollowTheGate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus")
	}
	// The gate asks Prometheus through a stand-in for a Thanos query
	// frontend that adds a partial-response warning while it is on.
	const partial = "partial response: fetching series from store 10.0.0.7:10901: rpc error: code = Unavailable"
	var frontend *testenv.WarningProxy
	s := startStack(t, func(c *gate.Config) {
		frontend = testenv.NewWarningProxy(t, c.Server.URL, "warnings", partial)
		frontend.Set(false)
		c.Server.URL = frontend.URL
	})
	const release = "shop-7d9f8"
	S, F, I := v1alpha1.AnalysisPhaseSuccessful, v1alpha1.AnalysisPhaseFailed, v1alpha1.AnalysisPhaseInconclusive

	t.Run("healthy: Successful at every stage", func(t *testing.T) {
		s.until(t, release, 1, S, 2*time.Minute)
		for stage := 1; stage <= 5; stage++ {
			meas, phase := s.argoStage(t, release, stage)
			if phase != S {
				t.Errorf("stage %d: %s, want Successful: %+v", stage, phase, meas)
			}
			if v := meas[argo.GateMetric].Value; v != `"GO"` {
				t.Errorf("stage %d: verdict measurement %s, want \"GO\"", stage, v)
			}
			code, v := s.verdict(t, release, stage)
			if code != http.StatusOK || v.Verdict != gate.GO || v.Weight == nil || *v.Weight != s.m.Ladder.Weights[stage-1] {
				t.Errorf("stage %d: %d %s weight %v", stage, code, v.Verdict, v.Weight)
			}
			s.checkEvidence(t, release, stage)
		}
		hooks := s.flaggerHooks(t)
		for h, ok := range hooks {
			if want := h != flaggerv1.RollbackHook; ok != want {
				t.Errorf("Flagger %s hook on healthy: succeeded %v, want %v", h, ok, want)
			}
		}
		sum, err := os.ReadFile(filepath.Join(s.evidence, release, "summary.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for stage := 1; stage <= 5; stage++ {
			if !bytes.Contains(sum, []byte(fmt.Sprintf("\n%d  ", stage))) {
				t.Errorf("summary.txt has no line for stage %d:\n%s", stage, sum)
			}
		}
	})

	t.Run("a partial (warned) answer: Inconclusive, NO_DATA naming the warning", func(t *testing.T) {
		frontend.Set(true)
		defer frontend.Set(false)
		s.until(t, release, 3, I, time.Minute)
		code, v := s.verdict(t, release, 3)
		if code != http.StatusPreconditionFailed || v.Verdict != gate.NoData {
			t.Fatalf("verdict %d %s, want 412 NO_DATA", code, v.Verdict)
		}
		named := 0
		for _, c := range v.Checks {
			// rules:loaded reads the rules API, which has no warnings.
			if c.Outcome == gate.GO && c.Name != "rules:loaded" {
				t.Errorf("%s GO on a partial answer", c.Name)
			}
			if strings.Contains(c.Reason, partial) {
				named++
			}
		}
		if named == 0 {
			t.Errorf("no check names the warning: %+v", v.Checks)
		}
		frontend.Set(false)
		s.until(t, release, 3, S, time.Minute)
	})

	t.Run("source series removed: Inconclusive, never Successful", func(t *testing.T) {
		s.work.set("gone")
		s.until(t, release, 2, I, time.Minute)
		for i := 0; i < 5; i++ {
			meas, phase := s.argoStage(t, release, 2)
			if phase != I {
				t.Errorf("measurement %d without series: %s, want Inconclusive: %+v", i, phase, meas)
			}
			time.Sleep(300 * time.Millisecond)
		}
		code, v := s.verdict(t, release, 2)
		if code != http.StatusPreconditionFailed || v.Verdict != gate.NoData || !strings.Contains(v.NoData, "signal:http_errors") {
			t.Errorf("verdict %d %s (no data: %s), want 412 NO_DATA naming signal:http_errors", code, v.Verdict, v.NoData)
		}
		for h, ok := range s.flaggerHooks(t) {
			if ok {
				t.Errorf("Flagger %s hook without data succeeded: gating hooks must halt, the rollback hook must not roll back", h)
			}
		}
	})

	t.Run("breach at stage 3: Failed, the check named", func(t *testing.T) {
		s.work.set("healthy")
		for stage := 1; stage <= 2; stage++ {
			s.until(t, release, stage, S, 2*time.Minute)
		}
		s.work.set("breach")
		meas := s.until(t, release, 3, F, 2*time.Minute)
		// The canary's comparisons with its baseline catch the breach
		// first, while the service-wide ratio is still under 1%: the
		// threshold comparison or the statistical judge, whichever reads
		// the new samples first.
		failed := meas[argo.GateFailedMetric]
		if failed.Phase != F || !strings.Contains(failed.Value, "canary:HttpErrorsCanaryWorse") && !strings.Contains(failed.Value, "judge:http_errors") {
			t.Errorf("the failed-checks measurement is %s %s, want Failed naming canary:HttpErrorsCanaryWorse or judge:http_errors", failed.Phase, failed.Value)
		}
		if v := meas[argo.GateMetric]; v.Phase != F || v.Value != `"NO_GO"` {
			t.Errorf("the verdict measurement is %s %s, want Failed \"NO_GO\"", v.Phase, v.Value)
		}
		// Then both comparisons and the service-wide trigger: Flagger's
		// pre-rollout hook, which leaves the comparisons out, fails too.
		deadline := time.Now().Add(2 * time.Minute)
		for {
			meas, _ = s.argoStage(t, release, 3)
			if v := meas[argo.GateFailedMetric].Value; strings.Contains(v, "trigger:HttpErrorsHigh") && strings.Contains(v, "canary:HttpErrorsCanaryWorse") && strings.Contains(v, "judge:http_errors") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("trigger:HttpErrorsHigh, canary:HttpErrorsCanaryWorse and judge:http_errors not all failed within 2m: %s", s.verdictText(t, release, 3))
			}
			time.Sleep(time.Second)
		}
		hooks := s.flaggerHooks(t)
		for h, ok := range hooks {
			if want := h == flaggerv1.RollbackHook; ok != want {
				t.Errorf("Flagger %s hook on a breach: succeeded %v, want %v", h, ok, want)
			}
		}
		s.checkEvidence(t, release, 3)
		summary, _ := os.ReadFile(filepath.Join(s.evidence, release, "stage-3", "summary_stage_3.txt"))
		if !bytes.HasPrefix(summary, []byte("NO_GO")) || !bytes.Contains(summary, []byte("trigger:HttpErrorsHigh")) {
			t.Errorf("summary_stage_3.txt does not lead with NO_GO and the trigger:\n%s", summary)
		}
		metrics := get(t, s.gateURL+"/metrics")
		if !strings.Contains(metrics, `redline_gate_verdict{check="trigger:HttpErrorsHigh",stage="3"} 0`) {
			t.Errorf("/metrics has no NO_GO gauge for the trigger at stage 3:\n%s", grep(metrics, "redline_gate_verdict"))
		}
		chromiumPage(t, s, release, 3)
	})
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
