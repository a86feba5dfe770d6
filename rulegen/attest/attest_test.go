package attest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

const testPassword = "planted-cosign-password-9f3e"

// keyFiles writes a key pair in each supported format and returns
// name -> (private file, public file).
func keyFiles(t *testing.T) map[string][2]string {
	t.Helper()
	dir := t.TempDir()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPKCS8, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecSEC1, _ := x509.MarshalECPrivateKey(ec)
	edPKCS8, _ := x509.MarshalPKCS8PrivateKey(edPriv)
	ecPub, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	edPubDER, _ := x509.MarshalPKIXPublicKey(edPub)
	// cosign generate-key-pair: scrypt + secretbox around PKCS#8. The
	// scrypt cost is in the file; the legacy one (older cosign keys)
	// keeps the race-enabled test fast.
	enc, err := encrypted.EncryptWithCustomKDFParameters(ecPKCS8, []byte(testPassword), encrypted.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	ecPubFile := write("ec.pub", "PUBLIC KEY", ecPub)
	return map[string][2]string{
		"ecdsa-pkcs8":   {write("ec.pkcs8", "PRIVATE KEY", ecPKCS8), ecPubFile},
		"ecdsa-sec1":    {write("ec.sec1", "EC PRIVATE KEY", ecSEC1), ecPubFile},
		"cosign":        {write("cosign.key", "ENCRYPTED SIGSTORE PRIVATE KEY", enc), ecPubFile},
		"ed25519-pkcs8": {write("ed.pkcs8", "PRIVATE KEY", edPKCS8), write("ed.pub", "PUBLIC KEY", edPubDER)},
	}
}

func testVerdict() *Verdict {
	return &Verdict{
		Subjects: []Subject{{Name: "ghcr.io/acme/api", SHA256: strings.Repeat("ab", 32)}},
		Result:   Warned,
		Configuration: []Resource{
			{Name: "redline.yml", SHA256: strings.Repeat("01", 32), Role: RoleSpec},
			{Name: "rules/api.rules.yml", SHA256: strings.Repeat("02", 32), Role: RoleRules},
		},
		Passed: []string{"trigger:A", "slo:x:budget"},
		Warned: []string{"preflight:optional"},
		URL:    "https://ci.example/run/1",
	}
}

func TestSignOpen(t *testing.T) {
	ctx := context.Background()
	keys := keyFiles(t)
	for name, kp := range keys {
		t.Run(name, func(t *testing.T) {
			s, err := LoadSigner(kp[0], []byte(testPassword))
			if err != nil {
				t.Fatal(err)
			}
			line, err := Sign(ctx, testVerdict(), s)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
				t.Errorf("envelope is not one line: %q", line)
			}
			v, err := LoadVerifier(kp[1])
			if err != nil {
				t.Fatal(err)
			}
			got, err := Open(ctx, line, v)
			if err != nil {
				t.Fatal(err)
			}
			want := testVerdict()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("opened\n%+v\nwant\n%+v", got, want)
			}
			independentVerify(t, line, kp[1], want)
			if strings.Contains(string(line), testPassword) {
				t.Error("the envelope holds the key's password")
			}
		})
	}
	// The other key of the same kind does not verify.
	s, _ := LoadSigner(keys["ed25519-pkcs8"][0], nil)
	line, _ := Sign(ctx, testVerdict(), s)
	v, _ := LoadVerifier(keys["ecdsa-pkcs8"][1])
	if _, err := Open(ctx, line, v); err == nil || !strings.Contains(err.Error(), "signature does not verify") {
		t.Errorf("opened with the wrong key: %v", err)
	}
}

func TestLoadSignerErrors(t *testing.T) {
	keys := keyFiles(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a key "+testPassword), 0o600)
	cert := filepath.Join(dir, "cert.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}), 0o600)
	for _, tc := range []struct {
		file, password, want string
	}{
		{keys["cosign"][0], "", "set COSIGN_PASSWORD"},
		{keys["cosign"][0], "wrong", "cannot decrypt the key"},
		{junk, "", "no PEM block"},
		{cert, "", `"CERTIFICATE" is not a private key`},
		{keys["ecdsa-pkcs8"][1], "", `"PUBLIC KEY" is not a private key`},
	} {
		_, err := LoadSigner(tc.file, []byte(tc.password))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s: %v, want an error naming the file with %q", tc.file, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), testPassword) {
			t.Errorf("%s: error shows key material: %v", tc.file, err)
		}
	}
}

func TestParseSubject(t *testing.T) {
	hex := strings.Repeat("0f", 32)
	s, err := ParseSubject("registry:5000/team/api@sha256:" + hex)
	if err != nil || s.Name != "registry:5000/team/api" || s.SHA256 != hex {
		t.Errorf("got %+v, %v", s, err)
	}
	for _, bad := range []string{"api", "@sha256:" + hex, "api@sha512:" + hex, "api@sha256:" + hex[:10], "api@sha256:" + strings.ToUpper(hex)} {
		if _, err := ParseSubject(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// independentVerify checks an envelope the way the DSSE and in-toto specs
// say, with Go's crypto and encoding/json only: nothing of this package
// or of the DSSE library, so that a shared mistake cannot pass unseen.
func independentVerify(t *testing.T, line []byte, pubFile string, want *Verdict) {
	t.Helper()
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(line, &env); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	// PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
	pae := []byte("DSSEv1 " + strconv.Itoa(len(env.PayloadType)) + " " + env.PayloadType + " " + strconv.Itoa(len(payload)) + " ")
	pae = append(pae, payload...)
	data, _ := os.ReadFile(pubFile)
	block, _ := pem.Decode(data)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Signatures) != 1 {
		t.Fatalf("%d signatures", len(env.Signatures))
	}
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	ok := false
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		h := sha256.Sum256(pae)
		ok = ecdsa.VerifyASN1(p, h[:], sig)
	case ed25519.PublicKey:
		ok = ed25519.Verify(p, pae, sig)
	}
	if !ok || env.PayloadType != "application/vnd.in-toto+json" {
		t.Fatalf("independent DSSE check fails (payloadType %q)", env.PayloadType)
	}
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		Predicate struct {
			Result        string   `json:"result"`
			URL           string   `json:"url"`
			PassedTests   []string `json:"passedTests"`
			WarnedTests   []string `json:"warnedTests"`
			FailedTests   []string `json:"failedTests"`
			Configuration []struct {
				Name   string            `json:"name"`
				Digest map[string]string `json:"digest"`
			} `json:"configuration"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != "https://in-toto.io/attestation/test-result/v0.1" {
		t.Errorf("statement types %q %q", st.Type, st.PredicateType)
	}
	if len(st.Subject) != len(want.Subjects) || st.Subject[0].Name != want.Subjects[0].Name || st.Subject[0].Digest["sha256"] != want.Subjects[0].SHA256 {
		t.Errorf("subject %+v, want %+v", st.Subject, want.Subjects)
	}
	p := st.Predicate
	if p.Result != string(want.Result) || p.URL != want.URL || fmt.Sprint(p.PassedTests, p.WarnedTests, p.FailedTests) != fmt.Sprint(want.Passed, want.Warned, want.Failed) {
		t.Errorf("predicate %+v, want %+v", p, want)
	}
	for i, c := range want.Configuration {
		if i >= len(p.Configuration) || p.Configuration[i].Name != c.Name || p.Configuration[i].Digest["sha256"] != c.SHA256 {
			t.Errorf("configuration %+v, want %+v", p.Configuration, want.Configuration)
			break
		}
	}
}

// TestCosignVerifies runs the sigstore cosign CLI, when it is on PATH,
// on an attestation Seal wrote: the same check a deploy step makes.
func TestCosignVerifies(t *testing.T) {
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		t.Skip("cosign not on PATH; the independent DSSE check in TestSignOpen covers the format")
	}
	ctx := context.Background()
	keys := keyFiles(t)
	for _, name := range []string{"cosign", "ed25519-pkcs8"} {
		kp := keys[name]
		dir := t.TempDir()
		artifact := filepath.Join(t.TempDir(), "release.tar")
		os.WriteFile(artifact, []byte("the release artifact"), 0o644)
		digest := sha256.Sum256([]byte("the release artifact"))
		os.WriteFile(filepath.Join(dir, "preflight.txt"), []byte("GO\n"), 0o644)
		s, err := LoadSigner(kp[0], []byte(testPassword))
		if err != nil {
			t.Fatal(err)
		}
		v := testVerdict()
		v.Subjects = []Subject{{Name: "release.tar", SHA256: fmt.Sprintf("%x", digest)}}
		if err := Seal(ctx, dir, v, s); err != nil {
			t.Fatal(err)
		}
		att := filepath.Join(dir, FileName)
		run := func(blob string) (string, error) {
			cmd := exec.Command(cosign, "verify-blob-attestation", "--key", kp[1], "--type", PredicateType,
				"--signature", att, "--insecure-ignore-tlog=true", blob)
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		if out, err := run(artifact); err != nil {
			t.Errorf("%s: cosign rejects the attestation: %v\n%s", name, err, out)
		}
		// cosign checks the subject: another artifact fails.
		other := filepath.Join(t.TempDir(), "other.tar")
		os.WriteFile(other, []byte("another artifact"), 0o644)
		if out, err := run(other); err == nil {
			t.Errorf("%s: cosign accepts the attestation for another artifact:\n%s", name, out)
		}
		// And the signature: the same statement signed by the other
		// key (Ed25519 for the ECDSA pair, and back) fails.
		otherKey := keys["ed25519-pkcs8"][0]
		if name == "ed25519-pkcs8" {
			otherKey = keys["cosign"][0]
		}
		wrong, err := LoadSigner(otherKey, []byte(testPassword))
		if err != nil {
			t.Fatal(err)
		}
		if err := Seal(ctx, dir, v, wrong); err != nil {
			t.Fatal(err)
		}
		if out, err := run(artifact); err == nil {
			t.Errorf("%s: cosign accepts a statement signed by another key:\n%s", name, out)
		}
	}
}
