package sqsxlambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

const (
	testBucket   = "payload-bucket"
	testPrefix   = "p/"
	standardARN  = "arn:aws:sqs:us-east-1:123456789012:jobs"
	fifoARN      = "arn:aws:sqs:us-east-1:123456789012:jobs.fifo"
	testTopicARN = "arn:aws:sns:us-east-1:123456789012:jobs"
)

// newClient returns a client on fakes whose payloads live under testPrefix in
// testBucket.
func newClient(t *testing.T, optFns ...func(*sqsx.Options)) (*sqsx.Client, *sqsxtest.S3) {
	t.Helper()
	sqsFake, s3Fake := sqsxtest.New()
	c, err := sqsx.New(sqsFake, s3Fake, append([]func(*sqsx.Options){func(o *sqsx.Options) {
		o.Bucket = testBucket
		o.KeyPrefix = testPrefix
	}}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, s3Fake
}

// pointerBody returns the pointer body naming bucket/key.
func pointerBody(t *testing.T, bucket, key string) string {
	t.Helper()
	b, err := payload.EncodePointer(payload.Pointer{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plainRecord is a record that carries its body itself.
func plainRecord(id, body string) events.SQSMessage {
	return events.SQSMessage{
		MessageId:         id,
		ReceiptHandle:     "handle-" + id,
		Body:              body,
		Md5OfBody:         "md5",
		Attributes:        map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		EventSourceARN:    standardARN,
		EventSource:       "aws:sqs",
		AWSRegion:         "us-east-1",
	}
}

// offloadedRecord is a record whose body points to bucket/key, with the
// reserved size attribute named attr.
func offloadedRecord(t *testing.T, id, bucket, key, attr string, size int) events.SQSMessage {
	t.Helper()
	r := plainRecord(id, pointerBody(t, bucket, key))
	r.MessageAttributes[attr] = events.SQSMessageAttribute{StringValue: aws.String(fmt.Sprint(size)), DataType: "Number"}
	return r
}

// envelopeRecord is a record delivered by SNS without raw delivery, whose
// envelope's Message points to bucket/key.
func envelopeRecord(t *testing.T, id, bucket, key string, size int) events.SQSMessage {
	t.Helper()
	env, err := json.Marshal(map[string]any{
		"Type":      "Notification",
		"MessageId": "sns-" + id,
		"TopicArn":  testTopicARN,
		"Message":   pointerBody(t, bucket, key),
		"MessageAttributes": map[string]any{
			sqsx.AttributeName: map[string]string{"Type": "Number", "Value": fmt.Sprint(size)},
			"kind":             map[string]string{"Type": "String", "Value": "report"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return plainRecord(id, string(env))
}

// put stores body as the payload testPrefix+name and returns its key.
func put(s3Fake *sqsxtest.S3, name, body string) string {
	s3Fake.SetObject(testBucket, testPrefix+name, []byte(body))
	return testPrefix + name
}

func TestResolve(t *testing.T) {
	c, s3Fake := newClient(t)
	key := put(s3Fake, "a", "the payload")

	t.Run("direct", func(t *testing.T) {
		for _, attr := range []string{sqsx.AttributeName, sqsx.LegacyAttributeName} {
			r := offloadedRecord(t, "m1", testBucket, key, attr, 11)
			r.MessageAttributes["kind"] = events.SQSMessageAttribute{StringValue: aws.String("report"), DataType: "String"}
			r.MessageAttributes["blob"] = events.SQSMessageAttribute{BinaryValue: []byte{0, 1, 2}, DataType: "Binary.raw"}
			before := r
			offloaded, err := Resolve(context.Background(), c, &r)
			if err != nil || !offloaded {
				t.Fatalf("expect offloaded, no error; got %v, %v", offloaded, err)
			}
			if r.Body != "the payload" {
				t.Fatalf("expect the payload as body, got %q", r.Body)
			}
			wantAttrs := map[string]events.SQSMessageAttribute{
				"kind": {StringValue: aws.String("report"), DataType: "String"},
				"blob": {BinaryValue: []byte{0, 1, 2}, DataType: "Binary.raw"},
			}
			if diff := cmp.Diff(wantAttrs, r.MessageAttributes); diff != "" {
				t.Fatalf("message attributes (-want +got):\n%s", diff)
			}
			h, err := payload.ParseReceiptHandle(r.ReceiptHandle)
			if err != nil || h.Original != "handle-m1" || h.Pointer != (payload.Pointer{Bucket: testBucket, Key: key}) {
				t.Fatalf("expect the handle to name the payload, got %+v, %v", h, err)
			}
			// What was not resolved is the record as Lambda sent it.
			r.Body, r.ReceiptHandle, r.MessageAttributes = before.Body, before.ReceiptHandle, before.MessageAttributes
			if diff := cmp.Diff(before, r); diff != "" {
				t.Fatalf("other fields changed (-want +got):\n%s", diff)
			}
			if _, ok := before.MessageAttributes[attr]; !ok {
				t.Fatal("expect the event's own attribute map left alone")
			}
		}
	})

	t.Run("plain", func(t *testing.T) {
		r := plainRecord("m2", "small")
		before := r
		offloaded, err := Resolve(context.Background(), c, &r)
		if err != nil || offloaded {
			t.Fatalf("expect not offloaded, no error; got %v, %v", offloaded, err)
		}
		if diff := cmp.Diff(before, r); diff != "" {
			t.Fatalf("record changed (-want +got):\n%s", diff)
		}
	})

	t.Run("SNS envelope", func(t *testing.T) {
		r := envelopeRecord(t, "m3", testBucket, key, 11)
		if _, err := Resolve(context.Background(), c, &r); err != nil {
			t.Fatal(err)
		}
		var env struct {
			Message           string
			MessageAttributes map[string]any
		}
		if err := json.Unmarshal([]byte(r.Body), &env); err != nil {
			t.Fatal(err)
		}
		if env.Message != "the payload" {
			t.Fatalf("expect the payload in the envelope, got %q", env.Message)
		}
		if _, ok := env.MessageAttributes[sqsx.AttributeName]; ok || env.MessageAttributes["kind"] == nil {
			t.Fatalf("expect only the reserved attribute removed, got %v", env.MessageAttributes)
		}
		if r.ReceiptHandle != "handle-m3" {
			t.Fatalf("expect the handle of a shared payload unchanged, got %q", r.ReceiptHandle)
		}
	})

	t.Run("SNS envelope unwrapped", func(t *testing.T) {
		c, s3Fake := newClient(t, func(o *sqsx.Options) { o.SNSEnvelope = sqsx.SNSEnvelopeUnwrap })
		key := put(s3Fake, "u", "unwrapped")
		r := envelopeRecord(t, "m4", testBucket, key, 9)
		if _, err := Resolve(context.Background(), c, &r); err != nil {
			t.Fatal(err)
		}
		want := map[string]events.SQSMessageAttribute{"kind": {StringValue: aws.String("report"), DataType: "String"}}
		if r.Body != "unwrapped" || !cmp.Equal(want, r.MessageAttributes) {
			t.Fatalf("expect the payload with the envelope's attributes, got %q %v", r.Body, r.MessageAttributes)
		}
	})

	t.Run("errors leave the record", func(t *testing.T) {
		cases := map[string]struct {
			record events.SQSMessage
			code   string
		}{
			"missing":         {offloadedRecord(t, "e1", testBucket, testPrefix+"gone", sqsx.AttributeName, 3), sqsx.CodePayloadNotFound},
			"key not allowed": {offloadedRecord(t, "e2", testBucket, "elsewhere/x", sqsx.AttributeName, 3), sqsx.CodeKeyNotAllowed},
			"bucket":          {offloadedRecord(t, "e3", "other-bucket", testPrefix+"x", sqsx.AttributeName, 3), sqsx.CodeBucketNotAllowed},
			"invalid pointer": {func() events.SQSMessage {
				r := offloadedRecord(t, "e4", testBucket, key, sqsx.AttributeName, 3)
				r.Body = "not a pointer"
				return r
			}(), sqsx.CodeInvalidPointer},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				r := tc.record
				_, err := Resolve(context.Background(), c, &r)
				if got := sqsx.UnresolvedCode(err); got != tc.code {
					t.Fatalf("expect code %s, got %s (%v)", tc.code, got, err)
				}
				if diff := cmp.Diff(tc.record, r); diff != "" {
					t.Fatalf("record changed (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// run builds a Handler with optFns, runs it on records, and returns the
// reported ids and every record's outcome by id.
func run(t *testing.T, c *sqsx.Client, h RecordHandler, records []events.SQSMessage, optFns ...func(*Options)) ([]string, map[string]Result) {
	t.Helper()
	results := map[string]Result{}
	var order []string
	optFns = append(optFns, func(o *Options) {
		o.OnResult = func(r Result) {
			results[r.MessageID] = r
			order = append(order, r.MessageID)
		}
	})
	handler, err := New(c, h, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := handler(context.Background(), events.SQSEvent{Records: records})
	if err != nil {
		t.Fatalf("expect no invocation error, got %v", err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	var want []string
	for _, r := range records {
		want = append(want, r.MessageId)
	}
	if !slices.Equal(order, want) {
		t.Fatalf("expect OnResult in event order %v, got %v", want, order)
	}
	return ids, results
}

// failing fails records whose body starts with "fail" and panics on "panic";
// it records the bodies it saw by message id.
type failing struct {
	mu   sync.Mutex
	seen map[string]string
}

func (f *failing) handle(_ context.Context, r *events.SQSMessage) error {
	f.mu.Lock()
	if f.seen == nil {
		f.seen = map[string]string{}
	}
	f.seen[r.MessageId] = r.Body
	f.mu.Unlock()
	switch {
	case strings.HasPrefix(r.Body, "fail"):
		return errors.New("handler refused " + r.MessageId)
	case strings.HasPrefix(r.Body, "panic"):
		panic("handler panicked on " + r.MessageId)
	}
	return nil
}

func TestHandlerMixedBatch(t *testing.T) {
	c, s3Fake := newClient(t)
	records := []events.SQSMessage{
		plainRecord("plain", "small body"),
		offloadedRecord(t, "big", testBucket, put(s3Fake, "big", "big body"), sqsx.AttributeName, 8),
		offloadedRecord(t, "legacy", testBucket, put(s3Fake, "legacy", "legacy body"), sqsx.LegacyAttributeName, 11),
		envelopeRecord(t, "sns", testBucket, put(s3Fake, "sns", "sns body"), 8),
		plainRecord("fails", "fail please"),
		offloadedRecord(t, "bigfails", testBucket, put(s3Fake, "bigfails", "fail big"), sqsx.AttributeName, 8),
		plainRecord("panics", "panic please"),
		offloadedRecord(t, "duplicate", testBucket, testPrefix+"gone", sqsx.AttributeName, 8),
		offloadedRecord(t, "hostile", testBucket, "secrets/config", sqsx.AttributeName, 8),
	}
	h := &failing{}
	ids, results := run(t, c, h.handle, records)
	if diff := cmp.Diff([]string{"fails", "bigfails", "panics", "hostile"}, ids); diff != "" {
		t.Fatalf("batchItemFailures (-want +got):\n%s", diff)
	}
	want := map[string]Outcome{
		"plain": Succeeded, "big": Succeeded, "legacy": Succeeded, "sns": Succeeded,
		"fails": Failed, "bigfails": Failed, "panics": Failed, "duplicate": Dropped, "hostile": Unresolved,
	}
	for id, o := range want {
		if results[id].Outcome != o {
			t.Errorf("%s: expect %v, got %v (%v)", id, o, results[id].Outcome, results[id].Err)
		}
	}
	if got := results["duplicate"].Code; got != sqsx.CodePayloadNotFound {
		t.Errorf("expect duplicate's code %s, got %s", sqsx.CodePayloadNotFound, got)
	}
	if got := results["hostile"].Code; got != sqsx.CodeKeyNotAllowed {
		t.Errorf("expect hostile's code %s, got %s", sqsx.CodeKeyNotAllowed, got)
	}
	if err := results["panics"].Err; err == nil || !strings.Contains(err.Error(), "handler panicked on panics") {
		t.Errorf("expect the panic as the error, got %v", err)
	}
	if !results["big"].Offloaded || results["plain"].Offloaded {
		t.Errorf("expect Offloaded for big only, got big %v, plain %v", results["big"].Offloaded, results["plain"].Offloaded)
	}
	// The handler saw resolved bodies, and never the unresolvable records.
	for id, body := range map[string]string{"plain": "small body", "big": "big body", "legacy": "legacy body", "bigfails": "fail big"} {
		if h.seen[id] != body {
			t.Errorf("%s: expect the handler to see %q, got %q", id, body, h.seen[id])
		}
	}
	if !strings.Contains(h.seen["sns"], `"Message":"sns body"`) {
		t.Errorf("expect the handler to see the resolved envelope, got %q", h.seen["sns"])
	}
	for _, id := range []string{"duplicate", "hostile"} {
		if _, ok := h.seen[id]; ok {
			t.Errorf("expect the handler not called for %s", id)
		}
	}
	// The event's records were left as Lambda sent them.
	if !strings.HasPrefix(records[1].Body, "[") {
		t.Errorf("expect the event's record unchanged, got body %q", records[1].Body)
	}
}

func TestHandlerUnresolvedPolicies(t *testing.T) {
	c, s3Fake := newClient(t)
	records := []events.SQSMessage{
		offloadedRecord(t, "good", testBucket, put(s3Fake, "good", "ok"), sqsx.AttributeName, 2),
		offloadedRecord(t, "missing", testBucket, testPrefix+"gone", sqsx.AttributeName, 2),
		offloadedRecord(t, "keyNotAllowed", testBucket, "other/x", sqsx.AttributeName, 2),
	}
	cases := map[string]struct {
		policy sqsx.UnresolvedPolicy
		failed []string
	}{
		"isolate": {sqsx.UnresolvedIsolate, []string{"keyNotAllowed"}},
		"delete":  {sqsx.UnresolvedDelete, nil},
		"fail":    {sqsx.UnresolvedFail, []string{"missing", "keyNotAllowed"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := &failing{}
			ids, _ := run(t, c, h.handle, records, func(o *Options) { o.Unresolved = tc.policy })
			if diff := cmp.Diff(tc.failed, ids); diff != "" {
				t.Fatalf("batchItemFailures (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("access denied is never dropped", func(t *testing.T) {
		c, s3Fake := newClient(t)
		key := put(s3Fake, "denied", "x")
		s3Fake.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) { return nil, accessDenied() }
		for _, p := range []sqsx.UnresolvedPolicy{sqsx.UnresolvedIsolate, sqsx.UnresolvedDelete} {
			ids, results := run(t, c, (&failing{}).handle,
				[]events.SQSMessage{offloadedRecord(t, "d", testBucket, key, sqsx.AttributeName, 1)},
				func(o *Options) { o.Unresolved = p })
			if !slices.Equal(ids, []string{"d"}) || results["d"].Code != sqsx.CodePayloadAccessDenied {
				t.Fatalf("%v: expect d reported with %s, got %v %+v", p, sqsx.CodePayloadAccessDenied, ids, results["d"])
			}
		}
	})
}

// accessDenied is S3's answer to a read without permission (or, without
// s3:ListBucket, to a read of a missing key).
func accessDenied() error {
	return &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
}

func fifoRecord(id, group, body string) events.SQSMessage {
	r := plainRecord(id, body)
	r.EventSourceARN = fifoARN
	r.Attributes["MessageGroupId"] = group
	return r
}

func TestHandlerFIFO(t *testing.T) {
	c, _ := newClient(t)
	records := []events.SQSMessage{
		fifoRecord("a1", "A", "ok"),
		fifoRecord("b1", "B", "ok"),
		fifoRecord("a2", "A", "fail"),
		fifoRecord("b2", "B", "ok"),
		fifoRecord("a3", "A", "ok"),
		fifoRecord("c1", "C", "ok"),
		fifoRecord("c2", "C", "ok"),
	}

	t.Run("group", func(t *testing.T) {
		var mu sync.Mutex
		order := map[string][]string{}
		inGroup := map[string]*atomic.Int32{"A": {}, "B": {}, "C": {}}
		h := func(ctx context.Context, r *events.SQSMessage) error {
			g := r.Attributes["MessageGroupId"]
			if n := inGroup[g].Add(1); n != 1 {
				t.Errorf("expect one record of group %s at a time, got %d", g, n)
			}
			defer inGroup[g].Add(-1)
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			order[g] = append(order[g], r.MessageId)
			mu.Unlock()
			return (&failing{}).handle(ctx, r)
		}
		ids, results := run(t, c, h, records)
		if diff := cmp.Diff([]string{"a2", "a3"}, ids); diff != "" {
			t.Fatalf("batchItemFailures (-want +got):\n%s", diff)
		}
		if results["a3"].Outcome != Skipped || !errors.Is(results["a3"].Err, ErrSkipped) {
			t.Fatalf("expect a3 skipped, got %+v", results["a3"])
		}
		want := map[string][]string{"A": {"a1", "a2"}, "B": {"b1", "b2"}, "C": {"c1", "c2"}}
		if diff := cmp.Diff(want, order); diff != "" {
			t.Fatalf("handled per group (-want +got):\n%s", diff)
		}
	})

	t.Run("batch", func(t *testing.T) {
		// One lane at a time, so that the lanes' order is the event's.
		ids, _ := run(t, c, (&failing{}).handle, records, func(o *Options) {
			o.FIFOFailBatch = true
			o.Concurrency = 1
		})
		if diff := cmp.Diff([]string{"b1", "a2", "b2", "a3", "c1", "c2"}, ids); diff != "" {
			t.Fatalf("batchItemFailures (-want +got):\n%s", diff)
		}
	})

	t.Run("unresolved payload stops its group", func(t *testing.T) {
		r := fifoRecord("x1", "X", "ok")
		r.Body = pointerBody(t, testBucket, "other/x")
		r.MessageAttributes[sqsx.AttributeName] = events.SQSMessageAttribute{StringValue: aws.String("1"), DataType: "Number"}
		dup := fifoRecord("y1", "Y", "ok")
		dup.Body = pointerBody(t, testBucket, testPrefix+"gone")
		dup.MessageAttributes[sqsx.AttributeName] = events.SQSMessageAttribute{StringValue: aws.String("1"), DataType: "Number"}
		ids, _ := run(t, c, (&failing{}).handle, []events.SQSMessage{r, fifoRecord("x2", "X", "ok"), dup, fifoRecord("y2", "Y", "ok")})
		if diff := cmp.Diff([]string{"x1", "x2"}, ids); diff != "" {
			t.Fatalf("batchItemFailures (-want +got):\n%s", diff)
		}
	})
}

func TestHandlerConcurrency(t *testing.T) {
	c, _ := newClient(t)
	var records []events.SQSMessage
	for i := range 30 {
		records = append(records, plainRecord(fmt.Sprint(i), "ok"))
	}
	var inFlight, peak atomic.Int32
	h := func(ctx context.Context, r *events.SQSMessage) error {
		n := inFlight.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(10 * time.Millisecond)
		inFlight.Add(-1)
		return nil
	}
	ids, _ := run(t, c, h, records, func(o *Options) { o.Concurrency = 4 })
	if len(ids) != 0 {
		t.Fatalf("expect no failures, got %v", ids)
	}
	if p := peak.Load(); p != 4 {
		t.Fatalf("expect 4 records at once at most and at peak, got %d", p)
	}
}

func TestHandlerContextDone(t *testing.T) {
	c, _ := newClient(t)
	handler, err := New(c, (&failing{}).handle)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp, err := handler(ctx, events.SQSEvent{Records: []events.SQSMessage{plainRecord("a", "ok"), plainRecord("b", "ok")}})
	if err != nil {
		t.Fatal(err)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "a"}, {ItemIdentifier: "b"}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); diff != "" {
		t.Fatalf("batchItemFailures (-want +got):\n%s", diff)
	}
}

func TestHandlerEmptyResponse(t *testing.T) {
	c, _ := newClient(t)
	handler, err := New(c, (&failing{}).handle)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := handler(context.Background(), events.SQSEvent{Records: []events.SQSMessage{plainRecord("a", "ok")}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(resp)
	if string(b) != `{"batchItemFailures":[]}` {
		t.Fatalf("expect an empty list (all processed), got %s", b)
	}
}

func TestDeletePayloads(t *testing.T) {
	for _, del := range []bool{false, true} {
		t.Run(fmt.Sprintf("DeletePayloads=%v", del), func(t *testing.T) {
			c, s3Fake := newClient(t)
			records := []events.SQSMessage{
				offloadedRecord(t, "ok", testBucket, put(s3Fake, "ok", "ok"), sqsx.AttributeName, 2),
				offloadedRecord(t, "fails", testBucket, put(s3Fake, "fails", "fail"), sqsx.AttributeName, 4),
				envelopeRecord(t, "shared", testBucket, put(s3Fake, "shared", "ok"), 2),
			}
			run(t, c, (&failing{}).handle, records, func(o *Options) { o.DeletePayloads = del })
			want := []string{testBucket + "/" + testPrefix + "fails", testBucket + "/" + testPrefix + "shared"}
			if !del {
				want = slices.Insert(want, 1, testBucket+"/"+testPrefix+"ok")
			}
			got := s3Fake.Keys()
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("objects left (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("a failed deletion changes nothing reported", func(t *testing.T) {
		c, s3Fake := newClient(t)
		s3Fake.DeleteObjectsFn = func(*s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error) { return nil, accessDenied() }
		ids, results := run(t, c, (&failing{}).handle,
			[]events.SQSMessage{offloadedRecord(t, "ok", testBucket, put(s3Fake, "ok", "ok"), sqsx.AttributeName, 2)},
			func(o *Options) { o.DeletePayloads = true })
		if len(ids) != 0 || results["ok"].Outcome != Succeeded {
			t.Fatalf("expect ok processed, got %v %+v", ids, results["ok"])
		}
	})
}

func TestNewInvalid(t *testing.T) {
	c, _ := newClient(t)
	h := (&failing{}).handle
	cases := map[string]struct {
		client *sqsx.Client
		h      RecordHandler
		fn     func(*Options)
		want   string
	}{
		"nil client":  {nil, h, func(*Options) {}, "client is nil"},
		"nil handler": {c, nil, func(*Options) {}, "handler is nil"},
		"concurrency": {c, h, func(o *Options) { o.Concurrency = -1 }, "Concurrency"},
		"return":      {c, h, func(o *Options) { o.Unresolved = sqsx.UnresolvedReturn }, "Unresolved"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := New(tc.client, tc.h, tc.fn)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("expect an error naming %q, got %v", tc.want, err)
			}
		})
	}
}

// TestRootImportsNoLambda checks that aws-lambda-go stays out of the
// packages that do not need it.
func TestRootImportsNoLambda(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/sqsx/sqsx", "github.com/sqsx/sqsx/payload", "github.com/sqsx/sqsx/snsx").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "github.com/aws/aws-sdk-go-v2/service/sqs\n") {
		t.Fatalf("expect go list to list the SQS client among the dependencies, got:\n%s", out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/aws/aws-lambda-go") {
			t.Fatalf("expect no aws-lambda-go dependency outside sqsxlambda, found %s", dep)
		}
	}
}
