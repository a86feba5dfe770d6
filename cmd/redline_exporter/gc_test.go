package main

import (
	"runtime/debug"
	"testing"
)

// The exporter collects garbage at GOGC=50 unless the environment sets
// GOGC, which then wins.
func TestGCPercent(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)

	setGCPercent(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Errorf("without GOGC: percent %d, want %d", got, gcPercent)
	}
	setGCPercent(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set: percent changed to %d, want it left alone", got)
	}
}
