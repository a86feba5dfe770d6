// Package testenv starts real PostgreSQL, pgBouncer, Prometheus and
// Alertmanager processes on free loopback ports, with all their state in a
// temporary directory. Tests, the demo and the benchmark use it; nothing in it
// talks to a shared server.
//
// Every Start function waits for the component to be ready within a deadline
// and returns an error that names the missing binary and the Debian package
// that provides it. The New* helpers wrap them for tests: they register
// teardown with t.Cleanup and fail (under CI=true) or skip (elsewhere) when a
// binary is missing.
package testenv
