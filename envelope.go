package sqsx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SNSEnvelopeMode says how ReceiveMessage hands back an offloaded message that
// arrived through an SNS subscription without raw message delivery, whose
// body is the SNS JSON envelope with the pointer in its Message field.
type SNSEnvelopeMode int

const (
	// SNSEnvelopeKeep hands back the envelope with its Message field
	// replaced by the payload and the reserved attribute removed from its
	// MessageAttributes; every other field is kept byte for byte. The
	// envelope's Signature then no longer matches. This is the default, as
	// it keeps the shape code written for SNS envelopes expects.
	SNSEnvelopeKeep SNSEnvelopeMode = iota

	// SNSEnvelopeUnwrap hands back the payload as the body, as if the
	// subscription had raw delivery, with the envelope's message attributes
	// as message attributes (Binary values decoded from base64).
	SNSEnvelopeUnwrap
)

// envelope is the part of an SNS notification envelope ReceiveMessage reads.
type envelope struct {
	Type              string
	Message           string
	MessageAttributes map[string]envelopeAttribute
}

type envelopeAttribute struct {
	Type  string
	Value string
}

// UnmarshalJSON decodes an attribute with the keys Type and Value matched
// exactly, as SNS writes them, and refuses a key that differs from one of
// them only in case, which encoding/json would take for the field.
func (a *envelopeAttribute) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	for name, raw := range fields {
		var dst *string
		switch {
		case name == "Type":
			dst = &a.Type
		case name == "Value":
			dst = &a.Value
		case strings.EqualFold(name, "Type") || strings.EqualFold(name, "Value"):
			return fmt.Errorf("SNS message attribute key %q is not Type or Value", name)
		default:
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return err
		}
	}
	return nil
}

// parseEnvelope returns the envelope of an offloaded message delivered by SNS
// without raw delivery, or ok=false if body is not one.
func parseEnvelope(body string) (env envelope, ok bool) {
	// Cheap checks first: most bodies are not envelopes.
	if !strings.HasPrefix(strings.TrimLeft(body, " \t\r\n"), "{") || !strings.Contains(body, "Notification") ||
		(!strings.Contains(body, AttributeName) && !strings.Contains(body, LegacyAttributeName)) {
		return envelope{}, false
	}
	// encoding/json matches keys regardless of case; SNS writes them exactly
	// so, and rewriteEnvelope edits exactly these, so refuse any other case.
	if !exactEnvelopeKeys(body) {
		return envelope{}, false
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || env.Type != "Notification" {
		return envelope{}, false
	}
	_, a := env.MessageAttributes[AttributeName]
	_, b := env.MessageAttributes[LegacyAttributeName]
	return env, a || b
}

// exactEnvelopeKeys reports whether the top-level object has the keys Type,
// Message and MessageAttributes spelled exactly so, each once, and no other key
// that differs from one of them only in case.
func exactEnvelopeKeys(body string) bool {
	want := []string{"Type", "Message", "MessageAttributes"}
	fields, err := topLevelFields(body)
	if err != nil {
		return false
	}
	seen := map[string]bool{}
	for _, f := range fields {
		for _, w := range want {
			if f.name == w {
				if seen[w] {
					return false
				}
				seen[w] = true
			} else if strings.EqualFold(f.name, w) {
				return false
			}
		}
	}
	return len(seen) == len(want)
}

// span is a byte range of a JSON document.
type span struct{ start, end int }

// field is a top-level field of a JSON object: its key and where its value is.
type field struct {
	name string
	span
}

// topLevelFields returns the fields of a JSON object, in order.
func topLevelFields(doc string) ([]field, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var fields []field
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		end := int(dec.InputOffset())
		fields = append(fields, field{name, span{end - len(raw), end}})
	}
	return fields, nil
}

// rewriteEnvelope returns body, an SNS envelope, with its Message set to msg
// and the reserved attributes removed from its MessageAttributes; the rest is
// left byte for byte.
func rewriteEnvelope(body, msg string, env envelope) (string, error) {
	fields, err := topLevelFields(body)
	if err != nil {
		return "", err
	}
	spans := map[string]span{}
	for _, f := range fields {
		spans[f.name] = f.span
	}
	msgJSON, err := marshalNoEscape(msg)
	if err != nil {
		return "", err
	}
	attrs := maps.Clone(env.MessageAttributes)
	delete(attrs, AttributeName)
	delete(attrs, LegacyAttributeName)
	attrsJSON, err := marshalNoEscape(attrs)
	if err != nil {
		return "", err
	}
	type edit struct {
		span
		text []byte
	}
	edits := []edit{{spans["Message"], msgJSON}, {spans["MessageAttributes"], attrsJSON}}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	var b strings.Builder
	b.Grow(len(body) + len(msgJSON))
	last := 0
	for _, e := range edits {
		b.WriteString(body[last:e.start])
		b.Write(e.text)
		last = e.end
	}
	b.WriteString(body[last:])
	return b.String(), nil
}

// marshalNoEscape encodes v as JSON without HTML escaping, as SNS writes it.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// envelopeAttributes maps the envelope's attributes, less the reserved ones,
// to SQS message attributes.
func envelopeAttributes(env envelope) (map[string]types.MessageAttributeValue, error) {
	out := map[string]types.MessageAttributeValue{}
	for name, a := range env.MessageAttributes {
		if isReserved(name) {
			continue
		}
		v := types.MessageAttributeValue{DataType: aws.String(a.Type)}
		if strings.HasPrefix(a.Type, "Binary") {
			bin, err := base64.StdEncoding.DecodeString(a.Value)
			if err != nil {
				return nil, fmt.Errorf("SNS message attribute %q: binary value is not base64: %w", name, err)
			}
			v.BinaryValue = bin
		} else {
			v.StringValue = aws.String(a.Value)
		}
		out[name] = v
	}
	return out, nil
}
