package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/consumer"
	"github.com/sqsx/sqsx/payload"
)

func TestAttrEnvName(t *testing.T) {
	cases := map[string]string{
		"color":       "SQSX_ATTR_color",
		"Color":       "SQSX_ATTR_Color",
		"trace-id":    "SQSX_ATTR_trace_id",
		"a.b.c":       "SQSX_ATTR_a_b_c",
		"under_score": "SQSX_ATTR_under_score",
		"9lives":      "SQSX_ATTR_9lives",
		"größe":       "SQSX_ATTR_gr____e", // not from SQS, which allows ASCII only; still a valid name
	}
	for name, want := range cases {
		if got := attrEnvName(name); got != want {
			t.Errorf("attrEnvName(%q): expect %s, got %s", name, want, got)
		}
	}
}

// envMap returns env as a map, failing t on a name set twice.
func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("%q is not NAME=value", kv)
		}
		if _, dup := m[k]; dup {
			t.Fatalf("%s set twice", k)
		}
		m[k] = v
	}
	return m
}

func TestMessageEnv(t *testing.T) {
	str := func(typ, v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String(typ), StringValue: aws.String(v)}
	}
	ptr, err := payload.EncodePointer(payload.Pointer{Bucket: "b-1", Key: "k/1"})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		m       consumer.Message
		want    map[string]string // exactly these variables
		omitted []string
	}{
		"standard queue, no attributes": {
			m: consumer.Message{ID: "id-1", Size: 5, ReceiveCount: 1, SystemAttributes: map[string]string{
				"SentTimestamp": "1700000000000", "ApproximateFirstReceiveTimestamp": "1700000000500", "ApproximateReceiveCount": "1",
			}, Raw: types.Message{Body: aws.String("hello")}},
			want: map[string]string{
				"SQSX_QUEUE_URL": "https://q/1/q", "SQSX_MESSAGE_ID": "id-1", "SQSX_RECEIVE_COUNT": "1",
				"SQSX_SENT_TIMESTAMP": "1700000000000", "SQSX_FIRST_RECEIVE_TIMESTAMP": "1700000000500",
				"SQSX_SIZE": "5", "SQSX_ATTRIBUTES": "{}",
			},
		},
		"FIFO, offloaded, attributes of every type": {
			m: consumer.Message{ID: "id-2", Size: 1 << 30, ReceiveCount: 3, Offloaded: true,
				SystemAttributes: map[string]string{"MessageGroupId": "g1", "MessageDeduplicationId": "d1", "SequenceNumber": "42"},
				Attributes: map[string]types.MessageAttributeValue{
					"color":    str("String", "blue"),
					"trace-id": str("String", "a=b c"),
					"n":        str("Number.int", "42"),
					"blob":     {DataType: aws.String("Binary"), BinaryValue: []byte{0xff, 0, 'h', 'i'}},
					"empty":    str("String", ""),
				},
				Raw: types.Message{Body: aws.String(ptr), MessageAttributes: map[string]types.MessageAttributeValue{
					payload.AttributeName: str("Number", "1073741824"),
				}}},
			want: map[string]string{
				"SQSX_QUEUE_URL": "https://q/1/q", "SQSX_MESSAGE_ID": "id-2", "SQSX_RECEIVE_COUNT": "3",
				"SQSX_GROUP_ID": "g1", "SQSX_DEDUPLICATION_ID": "d1", "SQSX_SEQUENCE_NUMBER": "42",
				"SQSX_SIZE": "1073741824", "SQSX_PAYLOAD": "s3://b-1/k/1",
				"SQSX_ATTR_color": "blue", "SQSX_ATTR_trace_id": "a=b c", "SQSX_ATTR_n": "42", "SQSX_ATTR_blob": "/wBoaQ==", "SQSX_ATTR_empty": "",
				"SQSX_ATTRIBUTES": `{"blob":{"DataType":"Binary","BinaryValue":"/wBoaQ=="},"color":{"DataType":"String","StringValue":"blue"},` +
					`"empty":{"DataType":"String","StringValue":""},"n":{"DataType":"Number.int","StringValue":"42"},"trace-id":{"DataType":"String","StringValue":"a=b c"}}`,
			},
		},
		"names that map to one variable set neither": {
			m: consumer.Message{ID: "id-3", Size: 1, Attributes: map[string]types.MessageAttributeValue{
				"a.b": str("String", "dot"), "a-b": str("String", "dash"), "a_c": str("String", "alone"),
			}},
			want: map[string]string{
				"SQSX_QUEUE_URL": "https://q/1/q", "SQSX_MESSAGE_ID": "id-3", "SQSX_RECEIVE_COUNT": "0", "SQSX_SIZE": "1",
				"SQSX_ATTR_a_c":   "alone",
				"SQSX_ATTRIBUTES": `{"a-b":{"DataType":"String","StringValue":"dash"},"a.b":{"DataType":"String","StringValue":"dot"},"a_c":{"DataType":"String","StringValue":"alone"}}`,
			},
		},
		"a value too long for the system is left out": {
			m: consumer.Message{ID: "id-4", Size: -1, Attributes: map[string]types.MessageAttributeValue{
				"big": str("String", strings.Repeat("x", 200<<10)), "small": str("String", "s"),
			}},
			want: map[string]string{
				"SQSX_QUEUE_URL": "https://q/1/q", "SQSX_MESSAGE_ID": "id-4", "SQSX_RECEIVE_COUNT": "0", "SQSX_ATTR_small": "s",
			},
			omitted: []string{"SQSX_ATTRIBUTES", "SQSX_ATTR_big"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env, omitted := messageEnv("https://q/1/q", &tc.m)
			got := envMap(t, env)
			for k, v := range tc.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s: expect %q, got %q (set %v)", k, v, g, ok)
				}
			}
			for k := range got {
				if _, ok := tc.want[k]; !ok {
					t.Errorf("%s=%.40q set, expect it unset", k, got[k])
				}
			}
			if !slices.Equal(omitted, tc.omitted) {
				t.Errorf("omitted: expect %v, got %v", tc.omitted, omitted)
			}
			if !slices.IsSorted(env) {
				t.Errorf("env is not sorted: %v", env)
			}
			if a, ok := got["SQSX_ATTRIBUTES"]; ok {
				var attrs map[string]attrJSON
				if err := json.Unmarshal([]byte(a), &attrs); err != nil || len(attrs) != len(tc.m.Attributes) {
					t.Errorf("SQSX_ATTRIBUTES %s: %d attributes (%v), expect %d", a, len(attrs), err, len(tc.m.Attributes))
				}
			}
		})
	}
}

func TestInheritedEnv(t *testing.T) {
	in := []string{"PATH=/bin", "SQSX_MESSAGE_ID=outer", "SQSX_ATTR_color=red", "SQSX_BACKEND=moto", "SQSX_GROUP_ID=g", "HOME=/h", "SQSX_ATTRIBUTES={}"}
	want := []string{"PATH=/bin", "SQSX_BACKEND=moto", "HOME=/h"}
	if got := inheritedEnv(in); !slices.Equal(got, want) {
		t.Errorf("expect %v, got %v", want, got)
	}
	if in[1] != "SQSX_MESSAGE_ID=outer" {
		t.Errorf("inheritedEnv changed its argument: %v", in)
	}
}

func TestLineTagger(t *testing.T) {
	var mu sync.Mutex
	var out bytes.Buffer
	a := &lineTagger{w: &lockedWriter{mu: &mu, w: &out}, prefix: "A\t"}
	b := &lineTagger{w: &lockedWriter{mu: &mu, w: &out}, prefix: "B\t"}
	a.Write([]byte("one "))
	b.Write([]byte("x\ny"))
	a.Write([]byte("line\ntwo\nthr"))
	b.Write([]byte("\n"))
	a.Write([]byte("ee"))
	a.flush()
	b.flush()
	want := "B\tx\nA\tone line\nA\ttwo\nB\ty\nA\tthree\n"
	if out.String() != want {
		t.Errorf("expect %q, got %q", want, out.String())
	}

	out.Reset()
	long := strings.Repeat("z", maxTaggedLine+10)
	a.Write([]byte(long))
	a.flush()
	want = "A\t" + long[:maxTaggedLine] + "\nA\t" + long[maxTaggedLine:] + "\n"
	if out.String() != want {
		t.Errorf("a line longer than %d bytes: got %d bytes, expect %d", maxTaggedLine, out.Len(), len(want))
	}
}

func TestConsumeUsage(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"no command":            {[]string{"--queue-url", "u"}, "no command"},
		"no queue":              {[]string{"--", "true"}, "--queue-url or --queue is required"},
		"concurrency 0":         {[]string{"--queue", "q", "--concurrency", "0", "--", "true"}, "--concurrency 0 is outside 1..1000"},
		"negative max-messages": {[]string{"--queue", "q", "--max-messages", "-1", "--", "true"}, "--max-messages -1 is negative"},
		"wait 0":                {[]string{"--queue", "q", "--wait-time-seconds", "0", "--", "true"}, "--wait-time-seconds 0 is outside 1..20"},
		"max-backoff < backoff": {[]string{"--queue", "q", "--backoff", "1m", "--max-backoff", "10s", "--", "true"}, "--max-backoff 10s is outside"},
		"shutdown-timeout 0":    {[]string{"--queue", "q", "--shutdown-timeout", "0", "--", "true"}, "--shutdown-timeout 0s is not positive"},
		"bad bucket":            {[]string{"--queue", "q", "--bucket", "B_", "--", "true"}, "--bucket"},
	}
	for name, tc := range cases {
		code, stdout, stderr := runCLI(t, "", append([]string{"consume"}, tc.args...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "sqsx consume -h") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; expect 2 and %q", name, code, stdout, stderr, tc.want)
		}
	}

	// The command's own flags are its own, with or without --.
	for _, args := range [][]string{
		{"--queue", "q", "--", "grep", "--output=json", "-v", "x"},
		{"--queue", "q", "grep", "--output=json", "-v", "x"},
	} {
		s, common, err := parseCommand(newConsumeCommand, args)
		if err != nil {
			t.Errorf("%v: %v", args, err)
			continue
		}
		if f := s.(*consumeFlags); !slices.Equal(f.argv, []string{"grep", "--output=json", "-v", "x"}) || common.json {
			t.Errorf("%v: argv %v, json %v", args, f.argv, common.json)
		}
	}

	code, _, stderr := runCLI(t, "", "consume", "--queue-url", "http://127.0.0.1:1/1/q", "--", "/no/such/command")
	if code != exitError || !strings.Contains(stderr, "cannot run /no/such/command") {
		t.Errorf("a command that does not exist: exit %d, stderr %q; expect 1 before any request", code, stderr)
	}
}
