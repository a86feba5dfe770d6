package demo

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/redline-sre/redline/rulegen"
	"github.com/redline-sre/redline/rulegen/spec"
)

// SpecOverrides shorten the platform spec's timings for a demo or a test
// and point its rollback route at a local receiver. Only timings and the
// webhook change: the signals, thresholds and triggers stay the platform's.
type SpecOverrides struct {
	WebhookURL    string
	For           time.Duration // every trigger's `for`, when not zero (see stepProof)
	GroupWait     time.Duration // Alertmanager group_wait, when not zero
	GroupInterval time.Duration // Alertmanager group_interval, when not zero
	// NewStack says the stack started minutes ago: the preflight: section
	// gets an entry that makes the CSP baseline signal a warning, since
	// there is no yesterday to compare with (docs/preflight.md).
	NewStack bool
}

// PlatformSpec returns the built-in platform spec with o applied, as YAML.
func PlatformSpec(o SpecOverrides) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(spec.DefaultSpec, &doc); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	if o.For > 0 {
		keep, err := stepProof()
		if err != nil {
			return nil, err
		}
		triggers := mapValue(root, "triggers")
		if triggers == nil {
			return nil, fmt.Errorf("platform spec has no triggers")
		}
		for _, t := range triggers.Content {
			if name := mapValue(t, "name"); name != nil && keep[name.Value] {
				continue
			}
			setScalar(t, "for", o.For.String())
		}
	}
	if o.NewStack {
		if err := appendPreflight(root, newStackEntry); err != nil {
			return nil, err
		}
	}
	am := mapValue(root, "alertmanager")
	if am == nil {
		return nil, fmt.Errorf("platform spec has no alertmanager section")
	}
	if o.WebhookURL != "" {
		setScalar(am, "webhook_url", o.WebhookURL)
	}
	if o.GroupWait > 0 {
		setScalar(am, "group_wait", o.GroupWait.String())
	}
	if o.GroupInterval > 0 {
		setScalar(am, "group_interval", o.GroupInterval.String())
	}
	return yaml.Marshal(&doc)
}

// stepProof lists the triggers whose `for` is longer than the rate or
// deriv window of their signal. That margin is what keeps a one-time step
// (a pool opened, a cache loaded, a pod's clients reconnecting) from
// firing them; shortened to a demo's few seconds, every step would.
func stepProof() (map[string]bool, error) {
	s, err := spec.Default()
	if err != nil {
		return nil, err
	}
	windowed := map[string]time.Duration{}
	for _, sig := range s.Signals {
		switch {
		case sig.Kind == spec.KindGauge && (sig.Function == "rate" || sig.Function == "deriv"),
			sig.Kind == spec.KindRate:
			windowed[sig.Name] = time.Duration(sig.Window.Duration)
		}
	}
	keep := map[string]bool{}
	for _, t := range s.Triggers {
		names := []string{t.Signal}
		for _, p := range t.All {
			names = append(names, p.Signal)
		}
		for _, n := range names {
			if w, ok := windowed[n]; ok && time.Duration(t.For.Duration) > w {
				keep[t.Name] = true
			}
		}
	}
	return keep, nil
}

// GenerateInto runs rulegen on a spec and writes its outputs under dir
// (rules/, alertmanager/, dashboards/).
func GenerateInto(dir, name string, data []byte) error {
	s, err := spec.Load(name, data)
	if err != nil {
		return err
	}
	files, err := rulegen.Generate(s, name)
	if err != nil {
		return err
	}
	return rulegen.Write(dir, files)
}

// mapValue returns the value node of key in a mapping node, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setScalar sets key to a string value in a mapping node, adding the key
// when it is missing.
func setScalar(m *yaml.Node, key, value string) {
	if v := mapValue(m, key); v != nil {
		v.Kind, v.Tag, v.Value, v.Style = yaml.ScalarNode, "!!str", value, 0
		return
	}
	m.Content = append(m.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}

// newStackEntry is the preflight: entry of a stack without history.
const newStackEntry = `name: csp_baseline_new_stack
signal: csp_violations
required: false
description: This stack started minutes ago; there is no CSP report rate from yesterday to compare with, so the check is a warning.`

// appendPreflight adds an entry to the spec's preflight: section.
func appendPreflight(root *yaml.Node, entry string) error {
	var item yaml.Node
	if err := yaml.Unmarshal([]byte(entry), &item); err != nil {
		return err
	}
	list := mapValue(root, "preflight")
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "preflight"}, list)
	}
	list.Content = append(list.Content, item.Content[0])
	return nil
}
