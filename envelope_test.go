package sqsx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx/payload"
)

// envFixture is an SNS envelope cut around its Message and MessageAttributes
// values: body() = pre + first + mid + second + post, where first and second
// are the Message value and the MessageAttributes value, in the order
// attrsFirst says.
type envFixture struct {
	pre, first, mid, second, post string
	attrsFirst                    bool
}

func (f envFixture) body() string { return f.pre + f.first + f.mid + f.second + f.post }

func jsonString(t testing.TB, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// defaultEnvAttrs is a MessageAttributes value as SNS writes it, with the
// size marker and three attributes of the caller.
const defaultEnvAttrs = `{
    "ExtendedPayloadSize" : {"Type":"Number","Value":"123"},
    "color" : {"Type":"String","Value":"blue"},
    "sizes" : {"Type":"String.Array","Value":"[\"S\",\"M\"]"},
    "bin" : {"Type":"Binary","Value":"AAH+/w=="}
  }`

// prettyEnvelope is a notification as SNS delivers it to SQS without raw
// delivery (the pretty-printed layout, MessageAttributes last). message is
// the Message (a pointer body, usually) and attrs the MessageAttributes JSON.
func prettyEnvelope(t testing.TB, message, attrs string) envFixture {
	return envFixture{
		pre: `{
  "Type" : "Notification",
  "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  "TopicArn" : "arn:aws:sns:us-east-1:123456789012:big-topic",
  "Subject" : "Big <news> & more",
  "Message" : `,
		first: jsonString(t, message),
		mid: `,
  "Timestamp" : "2025-05-02T00:54:06.655Z",
  "SignatureVersion" : "1",
  "Signature" : "EXAMPLEw6JRNwm1LFQL4ICB0bnXrdB8ClRMTQFGBqwLpGbM78tJ4etTwC5zU7O3tS6tGpey3ejedNdOJ+1fkIp9F2/LmNVKb5aFlYq+9rk9ZiPph5YlLmWsDcyC5T+Sy9/umic5S0UQc2PEtgdpVBahwNOdMW4JPwk0kAJJztnc=",
  "SigningCertURL" : "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
  "UnsubscribeURL" : "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:big-topic:c9135db0-26c4-47ec-8998-413945fb5a96",
  "MessageAttributes" : `,
		second: attrs,
		post:   "\n}",
	}
}

// compactAttrsFirst is an envelope in compact JSON with MessageAttributes
// before Message.
func compactAttrsFirst(t testing.TB, message, attrs string) envFixture {
	return envFixture{
		pre:        `{"Type":"Notification","MessageId":"m-2","MessageAttributes":`,
		first:      attrs,
		mid:        `,"TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":`,
		second:     jsonString(t, message),
		post:       `,"Timestamp":"2025-05-02T00:54:06.655Z","SignatureVersion":"1","Signature":"c2ln","SigningCertURL":"https://x/cert.pem","UnsubscribeURL":"https://x/?a=b&c=d"}`,
		attrsFirst: true,
	}
}

// readJSONValue reads one JSON value at the start of s and returns it with
// what follows it.
func readJSONValue(t *testing.T, s string) (json.RawMessage, string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		t.Fatalf("expect a JSON value at %.40q, got %v", s, err)
	}
	return raw, s[dec.InputOffset():]
}

// splitRewritten checks that out is f's envelope with only its Message and
// MessageAttributes values changed, and returns the new values.
func splitRewritten(t *testing.T, f envFixture, out string) (message string, attrs map[string]envelopeAttribute) {
	t.Helper()
	rest, ok := strings.CutPrefix(out, f.pre)
	if !ok {
		t.Fatalf("expect the bytes before the first edited field kept, got %.200q", out)
	}
	first, rest := readJSONValue(t, rest)
	rest, ok = strings.CutPrefix(rest, f.mid)
	if !ok {
		t.Fatalf("expect the bytes between the edited fields kept, got %.200q", rest)
	}
	second, rest := readJSONValue(t, rest)
	if rest != f.post {
		t.Errorf("expect the bytes after the edited fields kept (%q), got %q", f.post, rest)
	}
	msgRaw, attrsRaw := first, second
	if f.attrsFirst {
		msgRaw, attrsRaw = second, first
	}
	if err := json.Unmarshal(msgRaw, &message); err != nil {
		t.Fatalf("expect Message to be a JSON string, got %s: %v", msgRaw, err)
	}
	if err := json.Unmarshal(attrsRaw, &attrs); err != nil {
		t.Fatalf("expect MessageAttributes to be a JSON object, got %s: %v", attrsRaw, err)
	}
	return message, attrs
}

// acceptedEnvelope is an offloaded envelope parseEnvelope must accept, with
// the attributes it must read.
type acceptedEnvelope struct {
	body      string
	wantAttrs map[string]envelopeAttribute
}

// acceptedEnvelopes returns offloaded envelopes whose Message is ptr.
func acceptedEnvelopes(t testing.TB, ptr string) map[string]acceptedEnvelope {
	return map[string]acceptedEnvelope{
		"SNS layout": {
			body: prettyEnvelope(t, ptr, defaultEnvAttrs).body(),
			wantAttrs: map[string]envelopeAttribute{
				"ExtendedPayloadSize": {"Number", "123"}, "color": {"String", "blue"},
				"sizes": {"String.Array", `["S","M"]`}, "bin": {"Binary", "AAH+/w=="},
			},
		},
		"compact, attributes first": {
			body:      compactAttrsFirst(t, ptr, `{"ExtendedPayloadSize":{"Type":"Number","Value":"9"}}`).body(),
			wantAttrs: map[string]envelopeAttribute{"ExtendedPayloadSize": {"Number", "9"}},
		},
		"legacy attribute name": {
			body:      prettyEnvelope(t, ptr, `{"SQSLargePayloadSize":{"Type":"Number","Value":"7"}}`).body(),
			wantAttrs: map[string]envelopeAttribute{"SQSLargePayloadSize": {"Number", "7"}},
		},
		"leading whitespace": {
			body:      " \n\t" + compactAttrsFirst(t, ptr, `{"ExtendedPayloadSize":{"Type":"Number","Value":"9"}}`).body(),
			wantAttrs: map[string]envelopeAttribute{"ExtendedPayloadSize": {"Number", "9"}},
		},
	}
}

func TestParseEnvelopeAccepts(t *testing.T) {
	ptr := javaPointer(testBucket, "k1")
	for name, tc := range acceptedEnvelopes(t, ptr) {
		t.Run(name, func(t *testing.T) {
			env, ok := parseEnvelope(tc.body)
			if !ok {
				t.Fatalf("expect an envelope, got none")
			}
			if env.Type != "Notification" {
				t.Errorf("expect Type %v, got %v", "Notification", env.Type)
			}
			if env.Message != ptr {
				t.Errorf("expect Message %v, got %v", ptr, env.Message)
			}
			if diff := cmp.Diff(tc.wantAttrs, env.MessageAttributes); diff != "" {
				t.Errorf("attributes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// rejectedEnvelopes returns bodies parseEnvelope must refuse; where they
// hold a pointer, it is ptr.
func rejectedEnvelopes(t testing.TB, ptr string) map[string]string {
	return map[string]string{
		"plain text":           "hello",
		"empty":                "",
		"plain JSON object":    `{"order":42,"items":["a","b"]}`,
		"words in plain text":  "Notification: ExtendedPayloadSize exceeded",
		"words in a JSON blob": `{"Type":"Event","note":"Notification","ExtendedPayloadSize":5}`,
		"reserved name at top level": `{"Type":"Notification","Message":` + jsonString(t, ptr) +
			`,"ExtendedPayloadSize":{"Type":"Number","Value":"5"}}`,
		"reserved name only in values": `{"Type":"Notification","Message":"ExtendedPayloadSize",` +
			`"MessageAttributes":{"k":{"Type":"String","Value":"SQSLargePayloadSize"}}}`,
		"no reserved attribute": prettyEnvelope(t, ptr, `{"color":{"Type":"String","Value":"blue"}}`).body(),
		"no MessageAttributes":  `{"Type":"Notification","Message":` + jsonString(t, ptr) + `,"Note":"ExtendedPayloadSize"}`,
		// Mentions "Notification" elsewhere, so that the JSON is parsed.
		"SubscriptionConfirmation": strings.NewReplacer(`"Type" : "Notification"`, `"Type" : "SubscriptionConfirmation"`,
			"Big <news> & more", "Notification").Replace(prettyEnvelope(t, ptr, defaultEnvAttrs).body()),
		"lower-case type": strings.Replace(prettyEnvelope(t, ptr, defaultEnvAttrs).body(), `"Notification"`, `"notification"`, 1),
		// encoding/json would match these keys; the rewrite would not.
		"lower-case keys": `{"type":"Notification","message":` + jsonString(t, ptr) +
			`,"messageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"7"}}}`,
		"key also in another case": `{"Type":"Notification","Message":"x","message":` + jsonString(t, ptr) +
			`,"MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"7"}}}`,
		"key twice": `{"Type":"Notification","Type":"Notification","Message":` + jsonString(t, ptr) +
			`,"MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"7"}}}`,
		// Found writing FuzzParseEnvelope: the three keys were counted,
		// not each one, so a key twice stood in for a missing one, and
		// the rewrite wrote the new Message before the envelope.
		"key twice, Message missing": `{"Type":"Notification","Type":"Notification",` +
			`"MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"7"}}}`,
		"MessageAttributes twice, Message missing": `{"Type":"Notification","MessageAttributes":{},` +
			`"MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"7"}}}`,
		"invalid JSON": `{"Type":"Notification","Message":"x","MessageAttributes":{"ExtendedPayloadSize":`,
		"trailing garbage": compactAttrsFirst(t, ptr, `{"ExtendedPayloadSize":{"Type":"Number","Value":"9"}}`).body() +
			"}",
		"array":                   `["Notification","ExtendedPayloadSize"]`,
		"string":                  `"Notification ExtendedPayloadSize"`,
		"attributes array":        `{"Type":"Notification","Message":"x","MessageAttributes":["ExtendedPayloadSize"]}`,
		"type not a string":       `{"Type":1,"Message":"Notification","MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"5"}}}`,
		"attribute not an object": `{"Type":"Notification","Message":"x","MessageAttributes":{"ExtendedPayloadSize":5}}`,
		// Found writing FuzzParseEnvelope: encoding/json read "value" as
		// Value, where a strict reader sees no Value.
		"attribute key in another case": `{"Type":"Notification","Message":` + jsonString(t, ptr) +
			`,"MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"7"},"k":{"Type":"String","value":"v"}}}`,
	}
}

func TestParseEnvelopeRejects(t *testing.T) {
	for name, body := range rejectedEnvelopes(t, javaPointer(testBucket, "k1")) {
		t.Run(name, func(t *testing.T) {
			if env, ok := parseEnvelope(body); ok {
				t.Errorf("expect no envelope, got %+v", env)
			}
		})
	}
}

// rewritePayloads are payloads to put in an envelope's Message: JSON
// specials, multi-byte and control characters, and text that looks like an
// envelope or a pointer.
func rewritePayloads() map[string]string {
	return map[string]string{
		"plain":            "hello world",
		"quotes":           `say "hi" and "bye"`,
		"backslashes":      `C:\path\to\file \" \\ \u0041`,
		"newlines":         "line 1\nline 2\r\n\tindented",
		"HTML characters":  "<b>bold</b> & <i>more</i>",
		"multi-byte":       "größe ✓ 日本語 😀",
		"U+2028 and 2029":  "a\u2028b\u2029c",
		"control":          "nul\x00 bell\x07 esc\x1b",
		"JSON text":        `{"default":"x","list":[1,2,{"a":null}]}`,
		"envelope-like":    `{"Type":"Notification","Message":"x"}`,
		"large":            strings.Repeat("0123456789", 30000),
		"pointer-like":     javaPointer("other-bucket", "k2"),
		"trailing newline": "ends\n",
	}
}

func TestRewriteEnvelope(t *testing.T) {
	ptr := javaPointer(testBucket, "k1")
	payloads := rewritePayloads()
	layouts := map[string]func(t testing.TB, msg, attrs string) envFixture{
		"SNS layout":                prettyEnvelope,
		"compact, attributes first": compactAttrsFirst,
	}
	for lname, layout := range layouts {
		for pname, p := range payloads {
			t.Run(lname+"/"+pname, func(t *testing.T) {
				f := layout(t, ptr, defaultEnvAttrs)
				env, ok := parseEnvelope(f.body())
				if !ok {
					t.Fatal("expect an envelope")
				}
				out, err := rewriteEnvelope(f.body(), p, env)
				if err != nil {
					t.Fatalf("expect no error, got %v", err)
				}
				if !json.Valid([]byte(out)) {
					t.Fatalf("expect valid JSON, got %.300q", out)
				}
				msg, attrs := splitRewritten(t, f, out)
				if msg != p {
					t.Errorf("expect Message %.60q, got %.60q", p, msg)
				}
				want := map[string]envelopeAttribute{
					"color": {"String", "blue"}, "sizes": {"String.Array", `["S","M"]`}, "bin": {"Binary", "AAH+/w=="},
				}
				if diff := cmp.Diff(want, attrs); diff != "" {
					t.Errorf("attributes mismatch (-want +got):\n%s", diff)
				}
				if strings.Contains(p, "<b>") && !strings.Contains(out, "<b>bold</b> & <i>") {
					t.Errorf("expect <, > and & written as they are, as SNS does, got %.300q", out)
				}
				if strings.Contains(p, "日本語") && !strings.Contains(out, "größe ✓ 日本語 😀") {
					t.Errorf("expect multi-byte characters written as they are, got %.300q", out)
				}
				// The result is itself a valid envelope that no longer
				// looks offloaded.
				if _, ok := parseEnvelope(out); ok {
					t.Errorf("expect the rewritten envelope not to be taken for an offloaded one")
				}
			})
		}
	}
}

func TestRewriteEnvelopeRemovesBothReservedNames(t *testing.T) {
	cases := map[string]struct {
		attrs string
		want  map[string]envelopeAttribute
	}{
		"both names and another": {
			attrs: `{"ExtendedPayloadSize":{"Type":"Number","Value":"5"},"SQSLargePayloadSize":{"Type":"Number","Value":"5"},"k":{"Type":"String","Value":"v"}}`,
			want:  map[string]envelopeAttribute{"k": {"String", "v"}},
		},
		"only the marker": {
			attrs: `{"ExtendedPayloadSize":{"Type":"Number","Value":"5"}}`,
			want:  map[string]envelopeAttribute{},
		},
		"only the legacy marker": {
			attrs: `{"SQSLargePayloadSize":{"Type":"Number","Value":"5"}}`,
			want:  map[string]envelopeAttribute{},
		},
		"unicode attribute value": {
			attrs: `{"SQSLargePayloadSize":{"Type":"Number","Value":"5"},"ü":{"Type":"String","Value":"grün <&> \"q\""}}`,
			want:  map[string]envelopeAttribute{"ü": {"String", `grün <&> "q"`}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := prettyEnvelope(t, javaPointer(testBucket, "k"), tc.attrs)
			env, ok := parseEnvelope(f.body())
			if !ok {
				t.Fatal("expect an envelope")
			}
			out, err := rewriteEnvelope(f.body(), "payload", env)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			msg, attrs := splitRewritten(t, f, out)
			if msg != "payload" {
				t.Errorf("expect Message %q, got %q", "payload", msg)
			}
			if diff := cmp.Diff(tc.want, attrs); diff != "" {
				t.Errorf("attributes mismatch (-want +got):\n%s", diff)
			}
			// The envelope given is not modified.
			if _, ok := env.MessageAttributes[AttributeName]; !ok && strings.Contains(tc.attrs, AttributeName) {
				t.Errorf("expect the parsed envelope's attributes untouched")
			}
		})
	}
}

func TestEnvelopeAttributes(t *testing.T) {
	cases := map[string]struct {
		in   map[string]envelopeAttribute
		want map[string]types.MessageAttributeValue
	}{
		"every type": {
			in: map[string]envelopeAttribute{
				"s": {"String", "grün"}, "n": {"Number", "-4.5e3"}, "a": {"String.Array", `["x",1,true,null]`},
				"b": {"Binary", "AAH+/w=="}, "custom": {"Number.float", "1.5"}, "cb": {"Binary.gif", "R0lG"},
				"empty": {"Binary", ""},
			},
			want: map[string]types.MessageAttributeValue{
				"s":      {DataType: aws.String("String"), StringValue: aws.String("grün")},
				"n":      {DataType: aws.String("Number"), StringValue: aws.String("-4.5e3")},
				"a":      {DataType: aws.String("String.Array"), StringValue: aws.String(`["x",1,true,null]`)},
				"b":      {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 0xfe, 0xff}},
				"custom": {DataType: aws.String("Number.float"), StringValue: aws.String("1.5")},
				"cb":     {DataType: aws.String("Binary.gif"), BinaryValue: []byte("GIF")},
				"empty":  {DataType: aws.String("Binary"), BinaryValue: []byte{}},
			},
		},
		"reserved names dropped": {
			in: map[string]envelopeAttribute{
				AttributeName: {"Number", "5"}, LegacyAttributeName: {"Number", "5"}, "k": {"String", "v"},
			},
			want: map[string]types.MessageAttributeValue{"k": stringAttr("v")},
		},
		"none": {
			in:   map[string]envelopeAttribute{AttributeName: {"Number", "5"}},
			want: map[string]types.MessageAttributeValue{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := envelopeAttributes(envelope{Type: "Notification", MessageAttributes: tc.in})
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if diff := cmp.Diff(tc.want, got, awsCmp); diff != "" {
				t.Errorf("attributes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEnvelopeAttributesBadBase64(t *testing.T) {
	for _, v := range []string{"not base64!", "AAH+/w", "AAH-_w=="} {
		_, err := envelopeAttributes(envelope{MessageAttributes: map[string]envelopeAttribute{"pic": {"Binary", v}}})
		if err == nil || !strings.Contains(err.Error(), `"pic"`) {
			t.Errorf("value %q: expect an error naming the attribute, got %v", v, err)
		}
	}
}

// enqueueEnvelope stores body at bucket/key and enqueues, as SNS would
// without raw delivery, an envelope whose Message points to it. It returns
// the fixture and the MessageId.
func (e *testEnv) enqueueEnvelope(t *testing.T, bucket, key, body string) (envFixture, string) {
	t.Helper()
	if body != "" {
		e.s3.SetObject(bucket, key, []byte(body))
	}
	f := prettyEnvelope(t, javaPointer(bucket, key), defaultEnvAttrs)
	return f, e.sqs.Enqueue(testQueueURL, f.body(), nil)
}

func TestReceiveMessageEnvelope(t *testing.T) {
	payloadBody := `large "payload" <&> größe` + strings.Repeat("\n.", 1000)
	cases := map[string]struct {
		mode  SNSEnvelopeMode
		check func(t *testing.T, f envFixture, m types.Message)
	}{
		"keep (default)": {
			mode: SNSEnvelopeKeep,
			check: func(t *testing.T, f envFixture, m types.Message) {
				msg, attrs := splitRewritten(t, f, aws.ToString(m.Body))
				if msg != payloadBody {
					t.Errorf("expect Message to be the payload, got %.60q", msg)
				}
				if _, ok := attrs[AttributeName]; ok || len(attrs) != 3 {
					t.Errorf("expect the 3 caller attributes only, got %v", attrs)
				}
				if m.MessageAttributes != nil {
					t.Errorf("expect no SQS attributes, got %v", m.MessageAttributes)
				}
			},
		},
		"unwrap": {
			mode: SNSEnvelopeUnwrap,
			check: func(t *testing.T, f envFixture, m types.Message) {
				if got := aws.ToString(m.Body); got != payloadBody {
					t.Errorf("expect the payload as body, got %.60q", got)
				}
				want := map[string]types.MessageAttributeValue{
					"color": stringAttr("blue"),
					"sizes": {DataType: aws.String("String.Array"), StringValue: aws.String(`["S","M"]`)},
					"bin":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 0xfe, 0xff}},
				}
				if diff := cmp.Diff(want, m.MessageAttributes, awsCmp); diff != "" {
					t.Errorf("attributes mismatch (-want +got):\n%s", diff)
				}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.SNSEnvelope = tc.mode })
			f, id := e.enqueueEnvelope(t, testBucket, "env-key", payloadBody)
			plainID := e.sqs.Enqueue(testQueueURL, "plain", nil)
			out, err := e.receiveAll(context.Background())
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if len(out.Messages) != 2 {
				t.Fatalf("expect 2 messages, got %v", len(out.Messages))
			}
			byID := messagesByID(out.Messages)
			m := byID[id]
			tc.check(t, f, m)
			if got, want := aws.ToString(m.ReceiptHandle), e.originalHandle(t, id); got != want {
				t.Errorf("expect the receipt handle SQS issued, %v, got %v", want, got)
			}
			if got := aws.ToString(byID[plainID].Body); got != "plain" {
				t.Errorf("expect the plain message untouched, got %v", got)
			}
			e.expectCalls(t, "ReceiveMessage", "GetObject")

			// Deleting the message leaves the payload to the other
			// subscribers.
			e.log.Reset()
			if _, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
				QueueUrl: aws.String(testQueueURL), ReceiptHandle: m.ReceiptHandle,
			}); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			e.expectCalls(t, "DeleteMessage")
			if _, ok := e.s3.Object(testBucket, "env-key"); !ok {
				t.Errorf("expect the payload kept")
			}
		})
	}
}

// TestReceiveMessageEnvelopeUnwrapMergesSQSAttributes: attributes SQS
// returns beside the envelope are kept in Unwrap mode.
func TestReceiveMessageEnvelopeUnwrapMergesSQSAttributes(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.SNSEnvelope = SNSEnvelopeUnwrap })
	e.s3.SetObject(testBucket, "k", []byte("payload"))
	f := compactAttrsFirst(t, javaPointer(testBucket, "k"), `{"ExtendedPayloadSize":{"Type":"Number","Value":"7"}}`)
	e.sqs.Enqueue(testQueueURL, f.body(), map[string]types.MessageAttributeValue{"sqs-side": stringAttr("x")})
	out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	m := out.Messages[0]
	if got := aws.ToString(m.Body); got != "payload" {
		t.Errorf("expect %q, got %q", "payload", got)
	}
	if diff := cmp.Diff(map[string]types.MessageAttributeValue{"sqs-side": stringAttr("x")}, m.MessageAttributes, awsCmp); diff != "" {
		t.Errorf("attributes mismatch (-want +got):\n%s", diff)
	}

	// With no attributes at all, MessageAttributes is nil.
	e = newTestEnv(t, func(o *Options) { o.SNSEnvelope = SNSEnvelopeUnwrap })
	e.s3.SetObject(testBucket, "k", []byte("payload"))
	e.sqs.Enqueue(testQueueURL, f.body(), nil)
	out, err = e.receiveAll(context.Background())
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if got := out.Messages[0].MessageAttributes; got != nil {
		t.Errorf("expect nil attributes, got %v", got)
	}
}

func TestReceiveMessageEnvelopeUnresolvable(t *testing.T) {
	kinds := map[string]struct {
		enqueue func(t *testing.T, e *testEnv) (body, id string)
		target  error
		getObj  bool
	}{
		"bucket not allowed": {
			enqueue: func(t *testing.T, e *testEnv) (string, string) {
				f, id := e.enqueueEnvelope(t, "secret-bucket", "k", "secret")
				return f.body(), id
			},
			target: ErrBucketNotAllowed,
		},
		"payload missing": {
			enqueue: func(t *testing.T, e *testEnv) (string, string) {
				f, id := e.enqueueEnvelope(t, testBucket, "gone", "")
				return f.body(), id
			},
			target: ErrPayloadNotFound, getObj: true,
		},
		"Message not a pointer": {
			enqueue: func(t *testing.T, e *testEnv) (string, string) {
				f := prettyEnvelope(t, "just text", defaultEnvAttrs)
				return f.body(), e.sqs.Enqueue(testQueueURL, f.body(), nil)
			},
			target: ErrInvalidPointer,
		},
	}
	for kname, kind := range kinds {
		t.Run(kname+"/fail", func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.Unresolved = UnresolvedFail })
			kind.enqueue(t, e)
			out, err := e.receiveAll(context.Background())
			if !errors.Is(err, kind.target) {
				t.Fatalf("expect %v, got %v", kind.target, err)
			}
			if out != nil {
				t.Errorf("expect nil output, got %v", out)
			}
		})
		t.Run(kname+"/return", func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.Unresolved = UnresolvedReturn })
			body, id := kind.enqueue(t, e)
			out, err := e.receiveAll(context.Background())
			var ue *UnresolvedError
			if !errors.As(err, &ue) || len(ue.Messages) != 1 || ue.Messages[0].MessageID != id {
				t.Fatalf("expect an UnresolvedError for %v, got %v", id, err)
			}
			if !errors.Is(err, kind.target) {
				t.Errorf("expect %v, got %v", kind.target, err)
			}
			m := out.Messages[0]
			if aws.ToString(m.Body) != body || aws.ToString(m.ReceiptHandle) != e.originalHandle(t, id) {
				t.Errorf("expect the message unchanged, got %.80q %v", aws.ToString(m.Body), aws.ToString(m.ReceiptHandle))
			}
			want := []string{"ReceiveMessage"}
			if kind.getObj {
				want = append(want, "GetObject")
			}
			e.expectCalls(t, want...)
		})
		t.Run(kname+"/delete", func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.Unresolved = UnresolvedDelete })
			kind.enqueue(t, e)
			handle := ""
			e.sqs.DeleteMessageBatchFn = func(in *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
				handle = aws.ToString(in.Entries[0].ReceiptHandle)
				return nil, nil
			}
			out, err := e.receiveAll(context.Background())
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if len(out.Messages) != 0 {
				t.Errorf("expect the message dropped, got %v", len(out.Messages))
			}
			if e.sqs.Len(testQueueURL) != 0 {
				t.Errorf("expect the message deleted from the queue")
			}
			if handle == "" || strings.Contains(handle, payload.BucketMarker) {
				t.Errorf("expect the plain handle sent to SQS, got %q", handle)
			}
		})
	}
}

// TestReceiveMessageEnvelopeBadBinaryAttribute: in Unwrap mode an attribute
// that cannot be mapped makes the message unresolvable; Keep mode does not
// decode it.
func TestReceiveMessageEnvelopeBadBinaryAttribute(t *testing.T) {
	attrs := `{"ExtendedPayloadSize":{"Type":"Number","Value":"7"},"pic":{"Type":"Binary","Value":"%%%"}}`
	for _, mode := range []SNSEnvelopeMode{SNSEnvelopeKeep, SNSEnvelopeUnwrap} {
		e := newTestEnv(t, func(o *Options) { o.SNSEnvelope = mode; o.Unresolved = UnresolvedReturn })
		e.s3.SetObject(testBucket, "k", []byte("payload"))
		f := prettyEnvelope(t, javaPointer(testBucket, "k"), attrs)
		e.sqs.Enqueue(testQueueURL, f.body(), nil)
		out, err := e.receiveAll(context.Background())
		if mode == SNSEnvelopeKeep {
			if err != nil {
				t.Fatalf("keep: expect no error, got %v", err)
			}
			if msg, _ := splitRewritten(t, f, aws.ToString(out.Messages[0].Body)); msg != "payload" {
				t.Errorf("keep: expect %q, got %q", "payload", msg)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidPointer) || !strings.Contains(err.Error(), `"pic"`) {
			t.Errorf("unwrap: expect %v naming the attribute, got %v", ErrInvalidPointer, err)
		}
		if got := aws.ToString(out.Messages[0].Body); got != f.body() {
			t.Errorf("unwrap: expect the message unchanged, got %.80q", got)
		}
	}
}

// TestReceiveMessageNotAnEnvelope: bodies that merely mention the words an
// envelope has are left alone, without any S3 call.
func TestReceiveMessageNotAnEnvelope(t *testing.T) {
	bodies := []string{
		"Notification: ExtendedPayloadSize exceeded",
		`{"Type":"Event","note":"Notification","ExtendedPayloadSize":5}`,
		`{"Type":"Notification","Message":` + jsonString(t, javaPointer(testBucket, "k")) + `,"ExtendedPayloadSize":"5"}`,
		prettyEnvelope(t, javaPointer(testBucket, "k"), `{"color":{"Type":"String","Value":"Notification ExtendedPayloadSize"}}`).body(),
		strings.Replace(prettyEnvelope(t, javaPointer(testBucket, "k"), defaultEnvAttrs).body(),
			`"Type" : "Notification"`, `"Type" : "SubscriptionConfirmation", "Token" : "Notification"`, 1),
		`["Notification","ExtendedPayloadSize"]`,
		`{"Type":"Notification","Message":"x","MessageAttributes":{"ExtendedPayloadSize":`,
	}
	for _, mode := range []SNSEnvelopeMode{SNSEnvelopeKeep, SNSEnvelopeUnwrap} {
		e := newTestEnv(t, func(o *Options) { o.SNSEnvelope = mode })
		e.s3.SetObject(testBucket, "k", []byte("payload"))
		ids := map[string]string{}
		for _, b := range bodies {
			ids[e.sqs.Enqueue(testQueueURL, b, nil)] = b
		}
		out, err := e.receiveAll(context.Background())
		if err != nil {
			t.Fatalf("expect no error, got %v", err)
		}
		if len(out.Messages) != len(bodies) {
			t.Fatalf("expect %v messages, got %v", len(bodies), len(out.Messages))
		}
		for _, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			if got := aws.ToString(m.Body); got != ids[id] {
				t.Errorf("expect body %.60q untouched, got %.60q", ids[id], got)
			}
			if got, want := aws.ToString(m.ReceiptHandle), e.originalHandle(t, id); got != want {
				t.Errorf("expect handle %v, got %v", want, got)
			}
		}
		e.expectCalls(t, "ReceiveMessage")
	}
}

// withObjectMetadata makes the S3 fake return user metadata for the given
// objects ("bucket/key"), as S3 returns x-amz-meta-* headers.
func withObjectMetadata(e *testEnv, md map[string]map[string]string) {
	e.s3.GetObjectFn = func(in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		bucket, key := aws.ToString(in.Bucket), aws.ToString(in.Key)
		m, ok := md[bucket+"/"+key]
		if !ok {
			return nil, nil
		}
		b, ok := e.s3.Object(bucket, key)
		if !ok {
			return nil, nil
		}
		return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b)), ContentLength: aws.Int64(int64(len(b))), Metadata: m}, nil
	}
}

// TestReceiveMessageFanoutMarker: a raw-delivered offloaded message whose
// payload carries the fan-out marker keeps SQS's receipt handle, so that
// DeleteMessage leaves the payload; other payloads get the modified handle.
func TestReceiveMessageFanoutMarker(t *testing.T) {
	cases := map[string]struct {
		metadata map[string]string
		shared   bool
	}{
		"marked":         {map[string]string{"sqsx-fanout": "true"}, true},
		"marked, more":   {map[string]string{"team": "blue", "sqsx-fanout": "true"}, true},
		"no metadata":    {nil, false},
		"other metadata": {map[string]string{"team": "blue"}, false},
		"marker false":   {map[string]string{"sqsx-fanout": "false"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			withObjectMetadata(e, map[string]map[string]string{testBucket + "/k": tc.metadata})
			id := e.enqueueOffloaded(testBucket, "k", "the payload", AttributeName, javaPointer(testBucket, "k"),
				map[string]types.MessageAttributeValue{"color": stringAttr("blue")})
			out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(testQueueURL), MessageAttributeNames: []string{"color"},
			})
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			m := out.Messages[0]
			if got := aws.ToString(m.Body); got != "the payload" {
				t.Errorf("expect the payload, got %q", got)
			}
			if diff := cmp.Diff(map[string]types.MessageAttributeValue{"color": stringAttr("blue")}, m.MessageAttributes, awsCmp); diff != "" {
				t.Errorf("attributes mismatch (-want +got):\n%s", diff)
			}
			orig := e.originalHandle(t, id)
			h, err := payload.ParseReceiptHandle(aws.ToString(m.ReceiptHandle))
			if err != nil {
				t.Fatal(err)
			}
			if h.Original != orig {
				t.Errorf("expect original handle %v, got %v", orig, h.Original)
			}
			if got := h.HasPointer(); got == tc.shared {
				t.Errorf("expect the handle to name the payload: %v, got %v", !tc.shared, got)
			}

			e.log.Reset()
			if _, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
				QueueUrl: aws.String(testQueueURL), ReceiptHandle: m.ReceiptHandle,
			}); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if tc.shared {
				e.expectCalls(t, "DeleteMessage")
				e.expectObjects(t, 1)
			} else {
				e.expectCalls(t, "DeleteMessage", "DeleteObject")
				e.expectObjects(t, 0)
			}
			if e.sqs.Len(testQueueURL) != 0 {
				t.Errorf("expect the message deleted")
			}
		})
	}
}

// TestReceiveMessageFanoutTwoSubscribers: two queues get the same pointer;
// the first subscriber deletes its message and the second still reads the
// payload.
func TestReceiveMessageFanoutTwoSubscribers(t *testing.T) {
	e := newTestEnv(t)
	const queue2 = testQueueURL + "-2"
	withObjectMetadata(e, map[string]map[string]string{testBucket + "/shared": {"sqsx-fanout": "true"}})
	e.s3.SetObject(testBucket, "shared", []byte("for everyone"))
	attrs := map[string]types.MessageAttributeValue{AttributeName: numberAttr(12)}
	e.sqs.Enqueue(testQueueURL, javaPointer(testBucket, "shared"), attrs)
	f := prettyEnvelope(t, javaPointer(testBucket, "shared"), defaultEnvAttrs)
	e.sqs.Enqueue(queue2, f.body(), nil)

	out, err := e.receiveAll(context.Background())
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if _, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
		QueueUrl: aws.String(testQueueURL), ReceiptHandle: out.Messages[0].ReceiptHandle,
	}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	out2, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue2)})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if msg, _ := splitRewritten(t, f, aws.ToString(out2.Messages[0].Body)); msg != "for everyone" {
		t.Errorf("expect the second subscriber to read the payload, got %q", msg)
	}
	if _, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
		QueueUrl: aws.String(queue2), ReceiptHandle: out2.Messages[0].ReceiptHandle,
	}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectObjects(t, 1) // left to the lifecycle rule
	e.expectCalls(t, "ReceiveMessage", "GetObject", "DeleteMessage", "ReceiveMessage", "GetObject", "DeleteMessage")
}
