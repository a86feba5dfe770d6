package main

import (
	"github.com/redline-sre/redline/rulegen/attest"

	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redline-sre/redline/internal/testenv"
)

const judgeSpecText = `version: redline/v1
service: api
selectors:
  app: job="api"
signals:
  - name: http_errors
    kind: ratio
    errors: http_requests_total{${app}, code="500"}
    total: http_requests_total{${app}}
    threshold: 5%
  - name: api_latency
    kind: latency
    histogram: http_request_duration_seconds{${app}}
    quantile: 0.9
    threshold: 500ms
triggers:
  - name: ApiErrorRatioHigh
    signal: http_errors
    action: rollback
alertmanager:
  webhook_url: http://rollback-hook:9095/rollback
canary:
  label: track
  canary: canary
  baseline: stable
`

// track is one track's synthetic traffic over a window: per scrape, 200
// requests with lognormal latencies around median and 1% errors.
type track struct {
	name   string
	median float64
	// errors is the share of failed requests (1% when 0); noErrors
	// leaves the track without an error series.
	errors   float64
	noErrors bool
}

var judgeBuckets = []float64{0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1}

// openMetrics writes the scrapes of each window's tracks, every 15s from
// start, as OpenMetrics text: counters and a histogram per track, families
// contiguous, each series' samples in time order.
func openMetrics(seed uint64, windows map[time.Time][]track, steps int) string {
	type series struct {
		labels string
		points []string
	}
	fams := map[string]map[string]*series{}
	add := func(fam, name, labels string, ts time.Time, v float64) {
		if fams[fam] == nil {
			fams[fam] = map[string]*series{}
		}
		key := name + labels
		s := fams[fam][key]
		if s == nil {
			s = &series{labels: name + "{" + labels + "}"}
			fams[fam][key] = s
		}
		s.points = append(s.points, fmt.Sprintf("%s %s %d", s.labels, strconv.FormatFloat(v, 'f', -1, 64), ts.Unix()))
	}
	r := rand.New(rand.NewPCG(seed, 2))
	var starts []time.Time
	for st := range windows {
		starts = append(starts, st)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	type totals struct {
		ok, errs, count, sum float64
		buckets              []float64
	}
	state := map[string]*totals{}
	for _, start := range starts {
		for i := 0; i <= steps; i++ {
			ts := start.Add(time.Duration(i) * 15 * time.Second)
			for _, tr := range windows[start] {
				st := state[tr.name]
				if st == nil {
					st = &totals{buckets: make([]float64, len(judgeBuckets))}
					state[tr.name] = st
				}
				if i > 0 {
					for k := 0; k < 200; k++ {
						rate := tr.errors
						if rate == 0 {
							rate = 0.01
						}
						if !tr.noErrors && r.Float64() < rate {
							st.errs++
						} else {
							st.ok++
						}
						lat := tr.median * math.Exp(0.5*r.NormFloat64())
						st.count++
						st.sum += lat
						for b, le := range judgeBuckets {
							if lat <= le {
								st.buckets[b]++
							}
						}
					}
				}
				base := `job="api",track="` + tr.name + `"`
				add("http_requests", "http_requests_total", base+`,code="200"`, ts, st.ok)
				if !tr.noErrors {
					add("http_requests", "http_requests_total", base+`,code="500"`, ts, st.errs)
				}
				for b, le := range judgeBuckets {
					add("http_request_duration_seconds", "http_request_duration_seconds_bucket", base+`,le="`+strconv.FormatFloat(le, 'f', -1, 64)+`"`, ts, st.buckets[b])
				}
				add("http_request_duration_seconds", "http_request_duration_seconds_bucket", base+`,le="+Inf"`, ts, st.count)
				add("http_request_duration_seconds", "http_request_duration_seconds_count", base, ts, st.count)
				add("http_request_duration_seconds", "http_request_duration_seconds_sum", base, ts, st.sum)
			}
		}
	}
	var b strings.Builder
	b.WriteString("# TYPE http_requests counter\n")
	writeFam := func(fam string) {
		var keys []string
		for k := range fams[fam] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			for _, p := range fams[fam][k].points {
				b.WriteString(p + "\n")
			}
		}
	}
	writeFam("http_requests")
	b.WriteString("# TYPE http_request_duration_seconds histogram\n")
	writeFam("http_request_duration_seconds")
	b.WriteString("# EOF\n")
	return b.String()
}

// TestJudgeEndToEnd: two tracks backfilled into a real Prometheus; rulegen
// judge over each window is Fail for a canary 30% slower, Pass for no
// difference, and NO_DATA when the canary track has no series.
func TestJudgeEndToEnd(t *testing.T) {
	const steps = 40 // 10 minutes at 15s
	end := time.Now().Add(-2 * time.Hour).Truncate(time.Hour)
	regression := end.Add(-80 * time.Minute)
	same := end.Add(-50 * time.Minute)
	missing := end.Add(-20 * time.Minute)
	// The baselines of these two windows never failed and have no error
	// series (kayenta #799); the canary fails 1% in one.
	errorsOnly := end.Add(10 * time.Minute)
	noErrors := end.Add(40 * time.Minute)
	om := openMetrics(11, map[time.Time][]track{
		regression: {{name: "canary", median: 0.13}, {name: "stable", median: 0.1}},
		same:       {{name: "canary", median: 0.1}, {name: "stable", median: 0.1}},
		missing:    {{name: "stable", median: 0.1}},
		errorsOnly: {{name: "canary", median: 0.1}, {name: "stable", median: 0.1, noErrors: true}},
		noErrors:   {{name: "canary", median: 0.1, noErrors: true}, {name: "stable", median: 0.1, noErrors: true}},
	}, steps)
	prom := testenv.NewPrometheus(t, testenv.PrometheusOptions{ScrapeInterval: 15 * time.Second, Backfill: om})
	dir := t.TempDir()
	specFile := writeSpec(t, dir, judgeSpecText)
	key, pub := writeKeyPair(t, dir)
	const subject = "ghcr.io/acme/api@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	window := func(start time.Time) []string {
		return []string{"--from", start.Format(time.RFC3339), "--to", start.Add(steps * 15 * time.Second).Format(time.RFC3339)}
	}
	for _, tc := range []struct {
		name    string
		start   time.Time
		code    int
		verdict string
	}{
		{"regression", regression, 1, "Fail"},
		{"no difference", same, 0, "Pass"},
		{"canary missing", missing, 5, "NoData"},
		{"errors against a baseline without error series", errorsOnly, 1, "Fail"},
		{"no error series on either track", noErrors, 0, "Pass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			args := append([]string{"judge", "--spec", specFile, "--prometheus", prom.URL, "--output", "json", "--evidence", ev, "--release", "r1", "--stage", "2",
				"--signing-key", key, "--subject", subject}, window(tc.start)...)
			code, stdout, stderr := runCLI(t, args...)
			var rep struct {
				Verdict string  `json:"verdict"`
				Score   float64 `json:"score"`
				Stage   int     `json:"stage"`
				Window  struct{ Step int64 }
				Metrics []struct {
					Name           string `json:"name"`
					Classification string `json:"classification"`
					DecidedBy      string `json:"decided_by"`
					Canary         struct{ Count int }
					Baseline       struct{ Count int }
					MannWhitney    *struct{ U, P, Lower, Upper float64 } `json:"mann_whitney"`
				} `json:"metrics"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("exit %d, stderr %s, stdout %s: %v", code, stderr, stdout, err)
			}
			if code != tc.code || rep.Verdict != tc.verdict {
				t.Fatalf("exit %d verdict %s, want %d %s\n%s\n%s", code, rep.Verdict, tc.code, tc.verdict, stdout, stderr)
			}
			if rep.Stage != 2 || time.Duration(rep.Window.Step) != 15*time.Second {
				t.Errorf("stage %d step %v: the scrape interval is 15s", rep.Stage, time.Duration(rep.Window.Step))
			}
			for _, mr := range rep.Metrics {
				if tc.verdict != "NoData" && (mr.Canary.Count < steps-2 || mr.Baseline.Count < steps-2 || mr.MannWhitney == nil && mr.DecidedBy != "identical") {
					t.Errorf("%s: %d and %d samples, %+v: want a sample a scrape", mr.Name, mr.Canary.Count, mr.Baseline.Count, mr.MannWhitney)
				}
			}
			high := map[string]string{"regression": "api_latency", "errors against a baseline without error series": "http_errors"}[tc.name]
			for _, mr := range rep.Metrics {
				if want := "Pass"; tc.verdict != "NoData" {
					if mr.Name == high {
						want = "High"
					}
					if mr.Classification != want {
						t.Errorf("%s: %s, want %s", mr.Name, mr.Classification, want)
					}
				}
			}
			for _, f := range []string{"judge.json", "samples.json", attest.FileName} {
				if _, err := os.Stat(filepath.Join(ev, f)); err != nil {
					t.Errorf("evidence: %v", err)
				}
			}
		})
	}
	// Each judge's directory is signed; rulegen verify re-runs the judge
	// on its stored samples.
	t.Run("verify: signed, re-judged offline", func(t *testing.T) {
		verify := func(ev string) (int, string, string) {
			return runCLI(t, "verify", "--evidence", ev, "--key", pub, "--spec", specFile, "--subject", subject)
		}
		same, regressed := filepath.Join(dir, "no-difference"), filepath.Join(dir, "regression")
		if code, stdout, stderr := verify(same); code != 0 {
			t.Errorf("verify the Pass: exit %d\n%s%s", code, stdout, stderr)
		}
		code, _, stderr := verify(regressed)
		if code != 1 || strings.Contains(stderr, "NOT VERIFIED") {
			t.Errorf("verify the Fail: exit %d, want 1 for an authentic FAILED\n%s", code, stderr)
		}
		mustContain(t, "verify the Fail", stderr, "signed verdict is FAILED", "judge:api_latency")
		flipped := filepath.Join(dir, "flipped")
		copyDir(t, same, flipped)
		flipByte(t, filepath.Join(flipped, "samples.json"))
		code, _, stderr = verify(flipped)
		if code != 1 {
			t.Errorf("a flipped byte in samples.json: exit %d, want 1", code)
		}
		mustContain(t, "a flipped byte", stderr, "NOT VERIFIED", "samples.json: sha256")
		// A canary sample changed and the directory signed again: the
		// signature holds, the re-judge does not.
		tampered := filepath.Join(dir, "tampered")
		copyDir(t, same, tampered)
		scaleSamples(t, tampered, "api_latency", 1.5)
		reseal(t, tampered, key, pub)
		code, _, stderr = verify(tampered)
		if code != 1 {
			t.Errorf("tampered samples, signed again: exit %d, want 1", code)
		}
		mustContain(t, "tampered samples", stderr, "NOT VERIFIED", "judge.json: metric api_latency is Pass, its samples in samples.json give High", "judge.json: verdict Pass")
	})
	t.Run("text", func(t *testing.T) {
		code, stdout, _ := runCLI(t, append([]string{"judge", "--spec", specFile, "--prometheus", prom.URL}, window(regression)...)...)
		if code != 1 || !strings.Contains(stdout, "api_latency") || !strings.Contains(stdout, "verdict: Fail") {
			t.Errorf("exit %d:\n%s", code, stdout)
		}
		t.Log("\n" + stdout)
		_, stdout, _ = runCLI(t, append([]string{"judge", "--spec", specFile, "--prometheus", prom.URL}, window(same)...)...)
		t.Log("\n" + stdout)
	})
}

// TestJudgeExitCodes: the exits that need no data.
func TestJudgeExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := writeSpec(t, dir, judgeSpecText)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://user:pw-secret@" + l.Addr().String()
	l.Close()
	noCanary := filepath.Join(dir, "small.yml")
	if err := os.WriteFile(noCanary, []byte(smallSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"judge", "--spec", good, "--prometheus", closed}, 2, "required flag(s) '--from' not provided"},
		{[]string{"judge", "--spec", good, "--prometheus", closed, "--from", "yesterday"}, 2, "--from"},
		{[]string{"judge", "--spec", good, "--prometheus", closed, "--from", "now", "--to", "now-1h"}, 2, "must be after"},
		{[]string{"judge", "--spec", noCanary, "--prometheus", closed, "--from", "now-10m"}, 2, "compares no signal"},
		{[]string{"judge", "--spec", good, "--prometheus", closed, "--from", "now-10m"}, 3, "unreachable"},
		{[]string{"judge", "--spec", filepath.Join(dir, "none.yml"), "--prometheus", closed, "--from", "now-10m"}, 2, "rulegen judge: --spec: open"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d containing %q", tc.args, code, stderr, tc.code, tc.msg)
		}
		if strings.Contains(stdout+stderr, "pw-secret") {
			t.Errorf("%v: the URL's password is printed", tc.args)
		}
	}
}
