package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// sdkOnlyKeys are keys grafana-tools/sdk always writes that Grafana's
// current dashboard model does not have (it ignores them and drops them on
// save), by the kind of object they are in. The writer leaves them out, so
// its JSON is the model's.
var sdkOnlyKeys = map[string]map[string]bool{
	"dashboard":  {"hideControls": true, "originalTitle": true, "rows": true, "sharedCrosshair": true, "slug": true, "style": true},
	"panel":      {"editable": true, "error": true, "isNew": true, "span": true},
	"timepicker": {"time_options": true},
	"variable":   {"allFormat": true, "multiFormat": true},
}

// childKind is the kind of object under key in an object of kind parent;
// the elements of a list have the list's kind.
func childKind(parent, key string) string {
	switch parent + "." + key {
	case "dashboard.panels":
		return "panel"
	case "dashboard.timepicker":
		return "timepicker"
	case "dashboard.templating":
		return "templating"
	case "templating.list":
		return "variable"
	}
	return ""
}

// dropSDKOnlyKeys copies compact JSON without sdkOnlyKeys, keeping every
// other key in its order and every value's bytes.
func dropSDKOnlyKeys(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	if err := copyValue(dec, &out, "dashboard"); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func copyValue(dec *json.Decoder, out *bytes.Buffer, kind string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		b, err := json.Marshal(tok)
		if err != nil {
			return err
		}
		out.Write(b)
		return nil
	}
	switch d {
	case '{':
		out.WriteByte('{')
		first := true
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k, ok := kt.(string)
			if !ok {
				return fmt.Errorf("object key %v", kt)
			}
			if sdkOnlyKeys[kind][k] {
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return err
				}
				continue
			}
			if !first {
				out.WriteByte(',')
			}
			first = false
			kb, _ := json.Marshal(k)
			out.Write(kb)
			out.WriteByte(':')
			if err := copyValue(dec, out, childKind(kind, k)); err != nil {
				return err
			}
		}
		out.WriteByte('}')
	case '[':
		out.WriteByte('[')
		for i := 0; dec.More(); i++ {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := copyValue(dec, out, kind); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	}
	_, err = dec.Token() // the closing delimiter
	return err
}
