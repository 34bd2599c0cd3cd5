package sqsx

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseEnvelope checks parseEnvelope against strictEnvelope, a decode of
// the same bytes with encoding/json into generic values, where keys match
// exactly; and, for an accepted envelope, that the Keep-mode rewrite is a
// valid envelope with the new Message, without the reserved attributes, and
// with every other byte kept.
func FuzzParseEnvelope(f *testing.F) {
	ptr := javaPointer(testBucket, "k1")
	// The envelopes of the unit tests, each with a payload of the rewrite
	// test, in name order so that the seeds are the same every run.
	var msgs []string
	for _, p := range slices.Sorted(maps.Values(rewritePayloads())) {
		if len(p) <= 1<<10 {
			msgs = append(msgs, p)
		}
	}
	i := 0
	seed := func(body string) {
		f.Add(body, msgs[i%len(msgs)])
		i++
	}
	accepted := acceptedEnvelopes(f, ptr)
	for _, name := range slices.Sorted(maps.Keys(accepted)) {
		seed(accepted[name].body)
	}
	rejected := rejectedEnvelopes(f, ptr)
	for _, name := range slices.Sorted(maps.Keys(rejected)) {
		seed(rejected[name])
	}
	attrs := []string{defaultEnvAttrs, `{"SQSLargePayloadSize":{"Type":"Number","Value":"7"},"ExtendedPayloadSize":null}`}
	for _, a := range attrs {
		seed(prettyEnvelope(f, ptr, a).body())
		seed(compactAttrsFirst(f, ptr, a).body())
	}

	f.Fuzz(func(t *testing.T, body, msg string) {
		env, ok := parseEnvelope(body)
		want, wantOK := strictEnvelope(body)
		if ok && !wantOK {
			t.Fatalf("expect no envelope per the strict decode, got %+v", env)
		}
		// parseEnvelope looks for the words unescaped before it parses; an
		// envelope that spells them only with escapes goes unnoticed.
		if !ok && wantOK && strings.Contains(body, "Notification") &&
			(strings.Contains(body, AttributeName) || strings.Contains(body, LegacyAttributeName)) {
			t.Fatalf("expect an envelope per the strict decode, %+v, got none", want)
		}
		if !ok {
			return
		}
		if diff := cmp.Diff(want, env); diff != "" {
			t.Fatalf("envelope mismatch with the strict decode (-want +got):\n%s", diff)
		}

		out, err := rewriteEnvelope(body, msg, env)
		if err != nil {
			t.Fatalf("expect no error rewriting an accepted envelope, got %v", err)
		}
		if !json.Valid([]byte(out)) {
			t.Fatalf("expect valid JSON, got %q", out)
		}
		if _, ok := parseEnvelope(out); ok {
			t.Fatalf("expect the rewritten envelope not to be taken for an offloaded one: %q", out)
		}
		var back struct {
			Message           string
			MessageAttributes map[string]envelopeAttribute
		}
		if err := json.Unmarshal([]byte(out), &back); err != nil {
			t.Fatalf("expect the rewritten envelope to decode, got %v", err)
		}
		// JSON cannot carry invalid UTF-8: each bad byte becomes U+FFFD.
		if wantMsg := string([]rune(msg)); back.Message != wantMsg {
			t.Fatalf("expect Message %q, got %q", wantMsg, back.Message)
		}
		wantAttrs := map[string]envelopeAttribute{}
		for name, a := range want.MessageAttributes {
			if !isReserved(name) {
				wantAttrs[name] = a
			}
		}
		if diff := cmp.Diff(wantAttrs, back.MessageAttributes); diff != "" {
			t.Fatalf("attributes mismatch after the rewrite (-want +got):\n%s", diff)
		}
		if got, want := keptBytes(t, out), keptBytes(t, body); got != want {
			t.Fatalf("expect the bytes outside Message and MessageAttributes kept:\n%q\ngot\n%q", want, got)
		}

		// Unwrap mode maps every attribute but the reserved ones.
		sqsAttrs, err := envelopeAttributes(env)
		if err != nil {
			return // a Binary value that is not base64
		}
		if len(sqsAttrs) != len(wantAttrs) {
			t.Fatalf("expect %d attributes, got %d", len(wantAttrs), len(sqsAttrs))
		}
	})
}

// strictEnvelope is the reference for FuzzParseEnvelope: body decoded by
// encoding/json into maps, so that every key matches exactly, then held to
// the rules parseEnvelope claims. The top level is a JSON object with Type,
// Message and MessageAttributes each exactly once and no other key that
// differs from one of them only in case; Type is "Notification"; Message is
// a string; MessageAttributes is an object of objects whose Type and Value
// are strings, with no key that differs from Type or Value only in case; and
// it names a reserved attribute. A null stands for the zero value, as
// encoding/json decodes it into a string or a map.
func strictEnvelope(body string) (envelope, bool) {
	var top map[string]any
	if err := json.Unmarshal([]byte(body), &top); err != nil || top == nil {
		return envelope{}, false
	}
	count := map[string]int{}
	for _, k := range topLevelKeys(body) {
		for _, w := range []string{"Type", "Message", "MessageAttributes"} {
			if k == w {
				count[w]++
			} else if strings.EqualFold(k, w) {
				return envelope{}, false
			}
		}
	}
	if count["Type"] != 1 || count["Message"] != 1 || count["MessageAttributes"] != 1 {
		return envelope{}, false
	}
	var env envelope
	var ok bool
	if env.Type, ok = nullableString(top["Type"]); !ok || env.Type != "Notification" {
		return envelope{}, false
	}
	if env.Message, ok = nullableString(top["Message"]); !ok {
		return envelope{}, false
	}
	attrs, ok := top["MessageAttributes"].(map[string]any)
	if !ok {
		return envelope{}, false
	}
	env.MessageAttributes = map[string]envelopeAttribute{}
	for name, v := range attrs {
		obj, ok := v.(map[string]any)
		if v != nil && !ok {
			return envelope{}, false
		}
		for k := range obj {
			if k != "Type" && k != "Value" && (strings.EqualFold(k, "Type") || strings.EqualFold(k, "Value")) {
				return envelope{}, false
			}
		}
		var a envelopeAttribute
		if a.Type, ok = nullableString(obj["Type"]); !ok {
			return envelope{}, false
		}
		if a.Value, ok = nullableString(obj["Value"]); !ok {
			return envelope{}, false
		}
		env.MessageAttributes[name] = a
	}
	_, a := env.MessageAttributes[AttributeName]
	_, b := env.MessageAttributes[LegacyAttributeName]
	return env, a || b
}

// nullableString returns v as a string, with nil (JSON null) as "".
func nullableString(v any) (string, bool) {
	if v == nil {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

// topLevelKeys returns the keys of the JSON object doc, duplicates included,
// in order. doc must be a valid JSON object.
func topLevelKeys(doc string) []string {
	dec := json.NewDecoder(strings.NewReader(doc))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		keys = append(keys, tok.(string))
		// Skip the value, token by token.
		for depth := 0; ; {
			tok, err := dec.Token()
			if err != nil {
				return nil
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
			if depth == 0 {
				break
			}
		}
	}
	return keys
}

// keptBytes returns doc, an envelope, less the values of its Message and
// MessageAttributes fields: the bytes a rewrite keeps.
func keptBytes(t *testing.T, doc string) string {
	t.Helper()
	fields, err := topLevelFields(doc)
	if err != nil {
		t.Fatalf("expect a JSON object, got %v", err)
	}
	var b strings.Builder
	last := 0
	for _, f := range fields {
		if f.name == "Message" || f.name == "MessageAttributes" {
			b.WriteString(doc[last:f.start])
			last = f.end
		}
	}
	b.WriteString(doc[last:])
	return b.String()
}
