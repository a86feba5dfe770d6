package main

import "github.com/alecthomas/kingpin/v2"

// addClientFlags registers how to reach Prometheus — its URL and the
// HTTP client's credentials and TLS — on a command that reads it
// (preflight, judge); httpClientConfig turns them into the client's
// configuration.
func (f *preflightFlags) addClientFlags(c *kingpin.CmdClause) {
	f.prometheus = c.Flag("prometheus", "Prometheus URL (credentials in it are used for basic auth and never printed).").Required().PlaceHolder("URL").String()
	f.httpConfig = c.Flag("http.config.file", "HTTP client configuration for Prometheus, as promtool reads it (basic_auth, authorization, tls_config; secrets from files).").PlaceHolder("FILE").String()
	f.bearerFile = c.Flag("bearer-token-file", "File holding a bearer token for Prometheus.").PlaceHolder("FILE").String()
	f.username = c.Flag("basic-auth.username", "Basic-auth user name for Prometheus.").String()
	f.passFile = c.Flag("basic-auth.password-file", "File holding the basic-auth password.").PlaceHolder("FILE").String()
	f.caFile = c.Flag("tls.ca-file", "CA certificate to verify Prometheus's certificate.").PlaceHolder("FILE").String()
	f.certFile = c.Flag("tls.cert-file", "Client certificate for Prometheus (mTLS).").PlaceHolder("FILE").String()
	f.keyFile = c.Flag("tls.key-file", "Client key for Prometheus (mTLS).").PlaceHolder("FILE").String()
	f.insecure = c.Flag("tls.insecure-skip-verify", "Do not verify Prometheus's certificate.").Bool()
}
