package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestTLSAndBasicAuth serves over TLS with basic auth from
// --web.config.file (exporter-toolkit): a scrape without credentials is
// refused with 401, one with them gets the real pgBouncer's metrics.
func TestTLSAndBasicAuth(t *testing.T) {
	pb := newPgBouncer(t)
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(dir, "web.yml")
	writeFile(t, webConfig, "tls_server_config:\n  cert_file: "+certFile+"\n  key_file: "+keyFile+
		"\nbasic_auth_users:\n  prometheus: "+string(hash)+"\n")
	t.Setenv("REDLINE_PGBOUNCER_DSN", pb.StatsDSN())
	e := startExporter(t, "https", "--web.config.file="+webConfig)

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	do := func(user, password string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, e.URL+"/metrics", nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do("", ""); code != http.StatusUnauthorized {
		t.Errorf("scrape without credentials: %d, want 401", code)
	}
	if code, _ := do("prometheus", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("scrape with a wrong password: %d, want 401", code)
	}
	if code, body := do("prometheus", "scrape-secret"); code != 200 || !strings.Contains(body, `pgbouncer_up{target="pgbouncer"} 1`) {
		t.Errorf("authenticated scrape: %d\n%s", code, body)
	}
	// Plain HTTP gets no metrics from the TLS listener.
	plainURL := "http://" + strings.TrimPrefix(e.URL, "https://")
	if resp, err := http.Get(plainURL + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "pgbouncer_up") {
			t.Error("plain HTTP scrape got metrics from the TLS listener")
		}
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and returns the files
// and a pool that trusts it.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "redline test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestReload changes the config file under a running exporter: POST
// /-/reload and SIGHUP apply a good file, a bad one keeps the previous
// targets serving and sets redline_config_last_reload_successful 0.
func TestReload(t *testing.T) {
	pb := newPgBouncer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "redline.yml")
	dsnFile := filepath.Join(dir, "dsn")
	writeFile(t, dsnFile, pb.StatsDSN())
	target := func(name string) string {
		return "pgbouncer:\n  - name: " + name + "\n    dsn_file: " + dsnFile + "\n"
	}
	writeFile(t, file, target("first"))
	e := startExporter(t, "http", "--config.file="+file)
	metrics := func() string {
		_, body := e.get(t, "/metrics")
		return body
	}
	if m := metrics(); !strings.Contains(m, `pgbouncer_up{target="first"} 1`) {
		t.Fatalf("first config not served:\n%s", m)
	}

	writeFile(t, file, target("second"))
	if code, body := e.post(t, "/-/reload"); code != 200 {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	m := metrics()
	if !strings.Contains(m, `pgbouncer_up{target="second"} 1`) || strings.Contains(m, `target="first"`) {
		t.Errorf("after reload, want only target second:\n%s", m)
	}

	writeFile(t, file, target("third")+"    pool_size: 9\n")
	if code, body := e.post(t, "/-/reload"); code != http.StatusInternalServerError || !strings.Contains(body, `pgbouncer[0].pool_size: unknown key "pool_size"`) {
		t.Errorf("POST /-/reload with a bad file: %d %s", code, body)
	}
	m = metrics()
	if !strings.Contains(m, `pgbouncer_up{target="second"} 1`) || !strings.Contains(m, "redline_config_last_reload_successful 0") {
		t.Errorf("a bad file must keep target second and report the failed reload:\n%s", m)
	}

	writeFile(t, file, target("fourth"))
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for m = metrics(); !strings.Contains(m, `pgbouncer_up{target="fourth"} 1`); m = metrics() {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload:\n%s", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(m, "redline_config_last_reload_successful 1") {
		t.Errorf("after a good SIGHUP reload the metric is not 1:\n%s", m)
	}
	// The replaced targets' pools are closed: pgBouncer holds no more than
	// one pool's worth of exporter connections.
	deadline = time.Now().Add(10 * time.Second)
	for n := exporterConnections(t, pb); n > 2; n = exporterConnections(t, pb) {
		if time.Now().After(deadline) {
			t.Fatalf("%d exporter connections after reloads: old pools not closed", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestIdleConnectionsAreClosed opens keep-alive connections that each send
// one request and then go quiet, and one that never sends anything: the
// exporter closes every one after --web.idle-timeout (or the read timeout).
// Before, only the header-read timeout was set, and a connection idle
// after its first request stayed open for good (2,000 of them after 70 s).
func TestIdleConnectionsAreClosed(t *testing.T) {
	e := startExporter(t, "http", "--eventloop.url=http://127.0.0.1:1/loop", "--web.idle-timeout=500ms", "--web.read-timeout=1s")
	addr := strings.TrimPrefix(e.URL, "http://")
	const n = 40
	conns := make([]net.Conn, 0, n+1)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 512)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if k, err := c.Read(buf); err != nil || !strings.Contains(string(buf[:k]), "200 OK") {
			t.Fatalf("first request: %v %q", err, buf[:k])
		}
		conns = append(conns, c)
	}
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	conns = append(conns, silent)
	start := time.Now()
	for i, c := range conns {
		c.SetReadDeadline(start.Add(10 * time.Second))
		k, err := c.Read(make([]byte, 512))
		if err != io.EOF {
			t.Fatalf("connection %d: read %d bytes, %v; want the server to close it", i, k, err)
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("idle connections closed after %s", took)
	}
}
