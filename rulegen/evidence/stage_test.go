package evidence

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redline-sre/redline/rulegen/attest"
	"github.com/redline-sre/redline/rulegen/gate"
	"github.com/redline-sre/redline/rulegen/judge"
	"github.com/redline-sre/redline/rulegen/judge/prom"
)

// TestStageJudgeAgrees: a signed stage whose judge check says GO while
// its judge.json says Fail is not verified, and the difference is named;
// the same stage with the checks the judge's verdict gives is.
func TestStageJudgeAgrees(t *testing.T) {
	pk, sk, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(sk)
	pubDER, _ := x509.MarshalPKIXPublicKey(pk)
	keys := t.TempDir()
	keyFile, pubFile := filepath.Join(keys, "k"), filepath.Join(keys, "k.pub")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
	signer, err := attest.LoadSigner(keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	ver, err := attest.LoadVerifier(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	res := &prom.Result{Run: judge.Run{Verdict: judge.VerdictFail, Metrics: []judge.Result{{Name: "http_errors", Classification: judge.High}}}}
	stage := func(judgeOutcome gate.Outcome) string {
		dir := t.TempDir()
		v := &gate.Verdict{Checks: []gate.Check{
			{Name: gate.JudgeCheck, Required: true, Outcome: judgeOutcome},
			{Name: "judge:http_errors", Required: true, Outcome: gate.NoGo},
		}}
		v.Verdict, v.Failed, v.NoData = gate.Decide(v.Checks)
		os.WriteFile(filepath.Join(dir, StageChecks), v.JSON(), 0o644)
		if err := prom.WriteEvidence(dir, res, res); err != nil {
			t.Fatal(err)
		}
		if err := attest.Seal(context.Background(), dir, GateVerdict(v, []attest.Subject{{Name: "shop", SHA256: strings.Repeat("ab", 32)}}, nil), signer); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	if out := Verify(context.Background(), stage(gate.NoGo), Options{Key: ver}); len(out.Problems) > 0 {
		t.Errorf("a consistent stage: %v", out.Problems)
	}
	out := Verify(context.Background(), stage(gate.GO), Options{Key: ver})
	if !strings.Contains(strings.Join(out.Problems, "\n"), "checks.json: check judge is GO, judge.json gives NO_GO") {
		t.Errorf("judge GO against a Fail: %v", out.Problems)
	}
}
