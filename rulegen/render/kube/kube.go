// Package kube encodes and strictly decodes the Kubernetes manifests
// rulegen writes. Objects are the projects' own Go types (json tags), so
// they are encoded through JSON like kubectl does; decoding back rejects
// unknown and duplicate fields, which is what a typo in a CRD field
// silently becomes on a cluster with pruning.
package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/redline-sre/redline/rulegen/model"
	"github.com/redline-sre/redline/rulegen/render"
)

// Marshal writes objects as one YAML stream after the generated header,
// one document each. Keys come out sorted, so equal objects give equal
// bytes.
func Marshal(m *model.Model, objs ...any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(render.Header(m))
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		y, err := marshal(o)
		if err != nil {
			return nil, err
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

// marshal encodes an object through JSON and leaves out what the Go types
// cannot omit themselves: nulls (creationTimestamp) and empty objects (a
// status nobody sets, an empty authentication block). Nothing rulegen
// writes means anything by an empty object.
func marshal(o any) ([]byte, error) {
	j, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		return nil, err
	}
	return sigsyaml.Marshal(prune(v))
}

func prune(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			x = prune(x)
			if x == nil {
				delete(v, k)
				continue
			}
			if mm, ok := x.(map[string]any); ok && len(mm) == 0 {
				delete(v, k)
				continue
			}
			v[k] = x
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = prune(x)
		}
		return v
	}
	return v
}

// Documents splits a YAML stream into its documents, each re-encoded on
// its own.
func Documents(data []byte) ([][]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs [][]byte
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		out, err := yaml.Marshal(&n)
		if err != nil {
			return nil, err
		}
		docs = append(docs, out)
	}
}

// DecodeStrict decodes a YAML stream into one object per document, in
// order: an unknown or duplicate field, a wrong type or a different number
// of documents is an error.
func DecodeStrict(data []byte, into ...any) error {
	docs, err := Documents(data)
	if err != nil {
		return err
	}
	if len(docs) != len(into) {
		return fmt.Errorf("%d documents, want %d", len(docs), len(into))
	}
	for i, d := range docs {
		if err := sigsyaml.UnmarshalStrict(d, into[i]); err != nil {
			return fmt.Errorf("document %d: %w", i+1, err)
		}
	}
	return nil
}

// Kind checks a decoded object's apiVersion and kind.
func Kind(gotAPI, gotKind, api, kind string) error {
	if gotAPI != api || gotKind != kind {
		return fmt.Errorf("apiVersion %q kind %q, want %s %s", gotAPI, gotKind, api, kind)
	}
	return nil
}

// DecodeLoose decodes the first document ignoring unknown fields: enough
// to read apiVersion and kind before the strict decode picks the type.
func DecodeLoose(data []byte, into any) error {
	docs, err := Documents(data)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return fmt.Errorf("no YAML document")
	}
	return sigsyaml.Unmarshal(docs[0], into)
}
