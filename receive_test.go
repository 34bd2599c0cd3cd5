package sqsx

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

// enqueueOffloaded stores body at bucket/key and puts a message pointing to
// it into the fake queue, as another client would. It returns the MessageId.
func (e *testEnv) enqueueOffloaded(bucket, key, body, attrName, pointerBody string, extra map[string]types.MessageAttributeValue) string {
	e.s3.SetObject(bucket, key, []byte(body))
	attrs := map[string]types.MessageAttributeValue{attrName: numberAttr(len(body))}
	for k, v := range extra {
		attrs[k] = v
	}
	return e.sqs.Enqueue(testQueueURL, pointerBody, attrs)
}

// receiveAll receives up to 10 messages through the client.
func (e *testEnv) receiveAll(ctx context.Context) (*sqs.ReceiveMessageOutput, error) {
	return e.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(testQueueURL), MaxNumberOfMessages: 10})
}

// originalHandle returns the receipt handle the fake issued last for id.
func (e *testEnv) originalHandle(t *testing.T, id string) string {
	t.Helper()
	for _, m := range e.sqs.Messages(testQueueURL) {
		if aws.ToString(m.MessageId) == id {
			return aws.ToString(m.ReceiptHandle)
		}
	}
	t.Fatalf("message %v is not in the queue", id)
	return ""
}

func messagesByID(msgs []types.Message) map[string]types.Message {
	m := map[string]types.Message{}
	for _, msg := range msgs {
		m[aws.ToString(msg.MessageId)] = msg
	}
	return m
}

func TestReceiveMessageAttributeNames(t *testing.T) {
	both := []string{AttributeName, LegacyAttributeName}
	cases := map[string]struct {
		names []string
		want  []string
	}{
		"none":                {nil, both},
		"empty":               {[]string{}, both},
		"explicit":            {[]string{"foo", "bar"}, []string{"foo", "bar", AttributeName, LegacyAttributeName}},
		"one reserved given":  {[]string{LegacyAttributeName}, []string{LegacyAttributeName, AttributeName}},
		"both reserved given": {[]string{AttributeName, LegacyAttributeName}, both},
		"prefix":              {[]string{"foo.*"}, []string{"foo.*", AttributeName, LegacyAttributeName}},
		"All":                 {[]string{"All"}, []string{"All"}},
		".*":                  {[]string{".*"}, []string{".*"}},
		"All among others":    {[]string{"foo", "All"}, []string{"foo", "All"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			var names []string
			if tc.names != nil {
				// Spare capacity that an append would write into.
				names = make([]string, len(tc.names), len(tc.names)+5)
				copy(names, tc.names)
			}
			in := &sqs.ReceiveMessageInput{QueueUrl: aws.String(testQueueURL), MessageAttributeNames: names}
			before := deepCopy(t, in)
			if _, err := e.client.ReceiveMessage(context.Background(), in); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			sent := sqsxtest.Params[*sqs.ReceiveMessageInput](e.log)[0]
			if diff := cmp.Diff(tc.want, sent.MessageAttributeNames); diff != "" {
				t.Errorf("MessageAttributeNames sent mismatch (-want +got):\n%s", diff)
			}
			expectUnchanged(t, before, in)
			if names != nil {
				for i, s := range names[len(names):cap(names)] {
					if s != "" {
						t.Errorf("expect the spare capacity of the caller's slice untouched, got %q at %v", s, len(names)+i)
					}
				}
			}
			if sent == in {
				t.Errorf("expect a copy of the params sent, got the caller's")
			}
		})
	}
}

func TestReceiveMessageResolvesPointerForms(t *testing.T) {
	forms := map[string]func(bucket, key string) string{
		"Java compact": javaPointer,
		"Python spaced": func(b, k string) string {
			return `["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "` + b + `", "s3Key": "` + k + `"}]`
		},
		"legacy class, keys swapped": func(b, k string) string {
			return `["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3Key":"` + k + `","s3BucketName":"` + b + `"}]`
		},
		"pretty printed": func(b, k string) string {
			return "[\n  \"software.amazon.payloadoffloading.PayloadS3Pointer\",\n  {\n    \"s3BucketName\" : \"" + b + "\",\n    \"s3Key\" : \"" + k + "\"\n  }\n]"
		},
	}
	for formName, form := range forms {
		for _, attrName := range []string{AttributeName, LegacyAttributeName} {
			t.Run(formName+"/"+attrName, func(t *testing.T) {
				e := newTestEnv(t)
				const key = "2d3f0b6e-8f0a-4c1e-9a53-2f1f4b3c8d7e"
				body := strings.Repeat("ü", 200000)
				id := e.enqueueOffloaded(testBucket, key, body, attrName, form(testBucket, key),
					map[string]types.MessageAttributeValue{"trace": stringAttr("t-1")})
				out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
					QueueUrl: aws.String(testQueueURL), MessageAttributeNames: []string{"trace"},
				})
				if err != nil {
					t.Fatalf("expect no error, got %v", err)
				}
				if len(out.Messages) != 1 {
					t.Fatalf("expect 1 message, got %v", len(out.Messages))
				}
				m := out.Messages[0]
				if aws.ToString(m.MessageId) != id {
					t.Errorf("expect MessageId %v, got %v", id, aws.ToString(m.MessageId))
				}
				if aws.ToString(m.Body) != body {
					t.Errorf("expect the payload as body (%v bytes), got %v bytes", len(body), len(aws.ToString(m.Body)))
				}
				want := map[string]types.MessageAttributeValue{"trace": stringAttr("t-1")}
				if diff := cmp.Diff(want, m.MessageAttributes, awsCmp); diff != "" {
					t.Errorf("attributes mismatch (-want +got):\n%s", diff)
				}
				wantHandle := payload.ReceiptHandle{
					Original: e.originalHandle(t, id),
					Pointer:  payload.Pointer{Bucket: testBucket, Key: key},
				}.String()
				if got := aws.ToString(m.ReceiptHandle); got != wantHandle {
					t.Errorf("expect receipt handle %v, got %v", wantHandle, got)
				}
				e.expectCalls(t, "ReceiveMessage", "GetObject")
			})
		}
	}
}

func TestReceiveMessageStripsBothReservedAttributes(t *testing.T) {
	e := newTestEnv(t)
	e.enqueueOffloaded(testBucket, "k1", "payload", AttributeName, javaPointer(testBucket, "k1"),
		map[string]types.MessageAttributeValue{LegacyAttributeName: numberAttr(7)})
	out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageAttributeNames: []string{"All"},
	})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("expect 1 message, got %+v, %v", out, err)
	}
	m := out.Messages[0]
	if aws.ToString(m.Body) != "payload" || m.MessageAttributes != nil {
		t.Errorf("expect body payload and no attributes, got %q, %v", aws.ToString(m.Body), m.MessageAttributes)
	}
}

func TestReceiveMessageNotOffloadedUntouched(t *testing.T) {
	e := newTestEnv(t)
	attrs := map[string]types.MessageAttributeValue{
		"color": stringAttr("red"),
		// A body that looks like a pointer, without the marker attribute.
		"n": numberAttr(3),
	}
	id := e.sqs.Enqueue(testQueueURL, javaPointer(testBucket, "k"), attrs)
	id2 := e.sqs.Enqueue(testQueueURL, "plain", nil)
	out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(testQueueURL), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
	})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "ReceiveMessage")
	got := messagesByID(out.Messages)
	for _, want := range e.sqs.Messages(testQueueURL) {
		if diff := cmp.Diff(want, got[aws.ToString(want.MessageId)], awsCmp); diff != "" {
			t.Errorf("message %v changed (-want +got):\n%s", aws.ToString(want.MessageId), diff)
		}
	}
	if len(got) != 2 || got[id].Body == nil || got[id2].Body == nil {
		t.Errorf("expect both messages, got %v", out.Messages)
	}
}

func TestReceiveMessageRoundTrip(t *testing.T) {
	e := newTestEnv(t)
	bodies := []string{"small", strings.Repeat("€", 100000), strings.Repeat("z", 262145)}
	attrs := map[string]types.MessageAttributeValue{"a": stringAttr("1")}
	for _, b := range bodies {
		if _, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(b), MessageAttributes: attrs,
		}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(testQueueURL), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"a"},
	})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if len(out.Messages) != 3 {
		t.Fatalf("expect 3 messages, got %v", len(out.Messages))
	}
	for i, m := range out.Messages {
		if aws.ToString(m.Body) != bodies[i] {
			t.Errorf("message %v: expect %v bytes, got %v", i, len(bodies[i]), len(aws.ToString(m.Body)))
		}
		if diff := cmp.Diff(attrs, m.MessageAttributes, awsCmp); diff != "" {
			t.Errorf("message %v: attributes mismatch (-want +got):\n%s", i, diff)
		}
		h, err := payload.ParseReceiptHandle(aws.ToString(m.ReceiptHandle))
		if err != nil || h.HasPointer() != (i > 0) {
			t.Errorf("message %v: expect a pointer in the handle %v, got %+v (%v)", i, i > 0, h, err)
		}
	}
}

func TestReceiveMessageConcurrency(t *testing.T) {
	cases := map[string]struct {
		concurrency, want int
	}{
		"bounded by Concurrency": {2, 2},
		"one at a time":          {1, 1},
		"default":                {0, 10},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.Concurrency = tc.concurrency })
			g := &gate{want: tc.want}
			e.s3.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
				g.pass()
				return nil, nil
			}
			for i := range 10 {
				key := "key-" + itoa(i)
				e.enqueueOffloaded(testBucket, key, "payload "+itoa(i), AttributeName, javaPointer(testBucket, key), nil)
			}
			out, err := e.receiveAll(context.Background())
			if err != nil || len(out.Messages) != 10 {
				t.Fatalf("expect 10 messages, got %+v, %v", out, err)
			}
			for i, m := range out.Messages {
				if aws.ToString(m.Body) != "payload "+itoa(i) {
					t.Errorf("expect message order kept, got %q at %v", aws.ToString(m.Body), i)
				}
			}
			if got := g.maxSeen(); got != tc.want {
				t.Errorf("expect at most and at best %v fetches at once, got %v", tc.want, got)
			}
		})
	}
}

// unresolvableEnv has three messages: ok (resolvable), bad (unresolvable as
// set up by spoil) and plain (not offloaded), in that order.
func unresolvableEnv(t *testing.T, policy UnresolvedPolicy, spoil func(e *testEnv) string) (e *testEnv, okID, badID, plainID string) {
	t.Helper()
	e = newTestEnv(t, func(o *Options) { o.Unresolved = policy; o.MaxPayloadSize = 100 })
	okID = e.enqueueOffloaded(testBucket, "ok-key", "resolved", AttributeName, javaPointer(testBucket, "ok-key"), nil)
	badID = spoil(e)
	plainID = e.sqs.Enqueue(testQueueURL, "plain", nil)
	return e, okID, badID, plainID
}

// Ways a message can be unresolvable, with the sentinel each gives.
var unresolvableKinds = map[string]struct {
	spoil       func(e *testEnv) string
	target      error
	wantGetObj  bool
	wantPtrBody string
}{
	"object missing": {
		spoil: func(e *testEnv) string {
			return e.sqs.Enqueue(testQueueURL, javaPointer(testBucket, "gone"),
				map[string]types.MessageAttributeValue{AttributeName: numberAttr(5)})
		},
		target: ErrPayloadNotFound, wantGetObj: true, wantPtrBody: javaPointer(testBucket, "gone"),
	},
	"bucket not allowed": {
		spoil: func(e *testEnv) string {
			return e.enqueueOffloaded("secret-bucket", "k", "secret", LegacyAttributeName, javaPointer("secret-bucket", "k"), nil)
		},
		target: ErrBucketNotAllowed, wantPtrBody: javaPointer("secret-bucket", "k"),
	},
	"payload too large": {
		spoil: func(e *testEnv) string {
			return e.enqueueOffloaded(testBucket, "huge", strings.Repeat("h", 101), AttributeName, javaPointer(testBucket, "huge"), nil)
		},
		target: ErrPayloadTooLarge, wantGetObj: true, wantPtrBody: javaPointer(testBucket, "huge"),
	},
	"invalid pointer": {
		spoil: func(e *testEnv) string {
			return e.sqs.Enqueue(testQueueURL, "not a pointer",
				map[string]types.MessageAttributeValue{AttributeName: numberAttr(5)})
		},
		target: ErrInvalidPointer, wantPtrBody: "not a pointer",
	},
	"pointer with a path-traversal key": {
		spoil: func(e *testEnv) string {
			return e.sqs.Enqueue(testQueueURL, javaPointer(testBucket, "../etc/passwd"),
				map[string]types.MessageAttributeValue{AttributeName: numberAttr(5)})
		},
		target: ErrInvalidPointer, wantPtrBody: javaPointer(testBucket, "../etc/passwd"),
	},
}

func TestReceiveMessagePayloadNotFoundFail(t *testing.T) {
	for name, kind := range unresolvableKinds {
		t.Run(name, func(t *testing.T) {
			e, _, _, _ := unresolvableEnv(t, UnresolvedFail, kind.spoil)
			out, err := e.receiveAll(context.Background())
			if out != nil {
				t.Errorf("expect nil output, got %+v", out)
			}
			if !errors.Is(err, kind.target) {
				t.Errorf("expect errors.Is(err, %v), got %v", kind.target, err)
			}
			var pe *PayloadError
			if !errors.As(err, &pe) {
				t.Errorf("expect a *PayloadError, got %T", err)
			}
			if got := e.log.Count("GetObject"); got != 1+b2i(kind.wantGetObj) {
				t.Errorf("expect %v GetObject calls, got %v", 1+b2i(kind.wantGetObj), got)
			}
			if got := e.sqs.Len(testQueueURL); got != 3 {
				t.Errorf("expect all 3 messages left in the queue, got %v", got)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestReceiveMessagePayloadNotFoundFailKeepsSDKError(t *testing.T) {
	e, _, _, _ := unresolvableEnv(t, UnresolvedFail, unresolvableKinds["object missing"].spoil)
	_, err := e.receiveAll(context.Background())
	var nsk *s3types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("expect *s3types.NoSuchKey reachable, got %v", err)
	}
	var pe *PayloadError
	if !errors.As(err, &pe) || pe.Op != "GetObject" || pe.Bucket != testBucket || pe.Key != "gone" {
		t.Errorf("expect a PayloadError naming GetObject %v/gone, got %+v", testBucket, pe)
	}
}

func TestReceiveMessagePayloadNotFoundDelete(t *testing.T) {
	for name, kind := range unresolvableKinds {
		t.Run(name, func(t *testing.T) {
			e, okID, badID, plainID := unresolvableEnv(t, UnresolvedDelete, kind.spoil)
			// The handle the fake issued for the bad message, read while it is
			// still in the queue.
			issued := new(string)
			e.sqs.DeleteMessageBatchFn = func(*sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
				*issued = e.originalHandle(t, badID)
				return nil, nil
			}
			out, err := e.receiveAll(context.Background())
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			var ids []string
			for _, m := range out.Messages {
				ids = append(ids, aws.ToString(m.MessageId))
			}
			if diff := cmp.Diff([]string{okID, plainID}, ids); diff != "" {
				t.Errorf("messages returned mismatch (-want +got):\n%s", diff)
			}
			if aws.ToString(out.Messages[0].Body) != "resolved" {
				t.Errorf("expect the good message resolved, got %q", aws.ToString(out.Messages[0].Body))
			}
			dels := sqsxtest.Params[*sqs.DeleteMessageBatchInput](e.log)
			if len(dels) != 1 || len(dels[0].Entries) != 1 {
				t.Fatalf("expect 1 DeleteMessageBatch call of 1 entry, got %+v", dels)
			}
			if got := aws.ToString(dels[0].QueueUrl); got != testQueueURL {
				t.Errorf("expect QueueUrl %v, got %v", testQueueURL, got)
			}
			if got := aws.ToString(dels[0].Entries[0].ReceiptHandle); got != *issued {
				t.Errorf("expect the original handle %v sent, got %v", *issued, got)
			}
			us := GetUnresolvedMessages(out.ResultMetadata)
			if len(us) != 1 || us[0].MessageID != badID || us[0].Action != UnresolvedDeleted {
				t.Errorf("expect the metadata to name %v as deleted, got %+v", badID, us)
			}
			left := messagesByID(e.sqs.Messages(testQueueURL))
			if _, ok := left[badID]; ok || len(left) != 2 {
				t.Errorf("expect only the unresolvable message deleted from the queue, got %v left", len(left))
			}
			if e.log.Count("DeleteObject")+e.log.Count("DeleteObjects") != 0 {
				t.Errorf("expect no payload deleted")
			}
		})
	}
}

func TestReceiveMessagePayloadNotFoundReturn(t *testing.T) {
	for name, kind := range unresolvableKinds {
		t.Run(name, func(t *testing.T) {
			e, okID, badID, plainID := unresolvableEnv(t, UnresolvedReturn, kind.spoil)
			out, err := e.receiveAll(context.Background())
			if out == nil || len(out.Messages) != 3 {
				t.Fatalf("expect all 3 messages, got %+v", out)
			}
			var ue *UnresolvedError
			if !errors.As(err, &ue) {
				t.Fatalf("expect *UnresolvedError, got %T %v", err, err)
			}
			if len(ue.Messages) != 1 || ue.Messages[0].MessageID != badID {
				t.Errorf("expect UnresolvedError naming %v, got %+v", badID, ue.Messages)
			}
			if !errors.Is(err, kind.target) || !errors.Is(ue.Messages[0].Err, kind.target) {
				t.Errorf("expect errors.Is(err, %v), got %v", kind.target, err)
			}
			got := messagesByID(out.Messages)
			if aws.ToString(got[okID].Body) != "resolved" || aws.ToString(got[plainID].Body) != "plain" {
				t.Errorf("expect the other messages handled as usual, got %q, %q", aws.ToString(got[okID].Body), aws.ToString(got[plainID].Body))
			}
			bad := got[badID]
			if aws.ToString(bad.Body) != kind.wantPtrBody {
				t.Errorf("expect the pointer body kept, got %q", aws.ToString(bad.Body))
			}
			if aws.ToString(bad.ReceiptHandle) != e.originalHandle(t, badID) {
				t.Errorf("expect the original receipt handle, got %v", aws.ToString(bad.ReceiptHandle))
			}
			if _, ok := bad.MessageAttributes[AttributeName]; !ok {
				if _, ok := bad.MessageAttributes[LegacyAttributeName]; !ok {
					t.Errorf("expect the size attribute kept, got %v", bad.MessageAttributes)
				}
			}
			if e.log.Count("DeleteMessage") != 0 {
				t.Errorf("expect nothing deleted")
			}
		})
	}
}

func TestReceiveMessageReturnKeepsOrderOfUnresolved(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Unresolved = UnresolvedReturn })
	var ids []string
	for i := range 6 {
		ids = append(ids, e.sqs.Enqueue(testQueueURL, javaPointer(testBucket, "missing-"+itoa(i)),
			map[string]types.MessageAttributeValue{AttributeName: numberAttr(1)}))
	}
	_, err := e.receiveAll(context.Background())
	var ue *UnresolvedError
	if !errors.As(err, &ue) {
		t.Fatalf("expect *UnresolvedError, got %v", err)
	}
	var got []string
	for _, m := range ue.Messages {
		got = append(got, m.MessageID)
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("unresolved order mismatch (-want +got):\n%s", diff)
	}
}

// TestReceiveMessageS3ErrorPerMessage: an S3 failure other than not found
// (here AccessDenied) fails the call only under UnresolvedFail; under the
// other policies it is decided for that message alone, and never deletes it.
func TestReceiveMessageS3ErrorPerMessage(t *testing.T) {
	for _, policy := range []UnresolvedPolicy{UnresolvedIsolate, UnresolvedFail, UnresolvedDelete, UnresolvedReturn} {
		t.Run(policy.String(), func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.Unresolved = policy })
			e.enqueueOffloaded(testBucket, "k", "body", AttributeName, javaPointer(testBucket, "k"), nil)
			e.s3.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
				return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied", Fault: smithy.FaultClient}
			}
			out, err := e.receiveAll(context.Background())
			if errors.Is(err, ErrPayloadNotFound) {
				t.Errorf("expect access denied not to count as not found, got %v", err)
			}
			if e.log.Count("DeleteMessage")+e.log.Count("DeleteMessageBatch") != 0 || e.sqs.Len(testQueueURL) != 1 {
				t.Errorf("expect the message kept")
			}
			if policy == UnresolvedFail {
				var ae smithy.APIError
				if out != nil || !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
					t.Errorf("expect nil output and the AccessDenied error, got %v, %v", out, err)
				}
				return
			}
			us := GetUnresolvedMessages(out.ResultMetadata)
			if len(us) != 1 || us[0].Code != CodePayloadAccessDenied {
				t.Fatalf("expect one unresolved message with %s, got %+v", CodePayloadAccessDenied, us)
			}
			if policy == UnresolvedReturn {
				var ue *UnresolvedError
				if !errors.As(err, &ue) || len(out.Messages) != 1 || us[0].Action != UnresolvedReturned {
					t.Errorf("expect the message returned with an UnresolvedError, got %d, %v", len(out.Messages), err)
				}
				return
			}
			if err != nil || len(out.Messages) != 0 || us[0].Action != UnresolvedLeft {
				t.Errorf("expect no error, no message and the message left, got %v, %d, %v", err, len(out.Messages), us[0].Action)
			}
		})
	}
}

func TestReceiveMessageContextCanceled(t *testing.T) {
	t.Run("before the call", func(t *testing.T) {
		e := newTestEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		out, err := e.receiveAll(ctx)
		if out != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("expect nil output and context.Canceled, got %v, %v", out, err)
		}
	})
	for _, policy := range []UnresolvedPolicy{UnresolvedIsolate, UnresolvedFail, UnresolvedDelete, UnresolvedReturn} {
		t.Run("during the fetch/"+policy.String(), func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.Unresolved = policy })
			e.enqueueOffloaded(testBucket, "k", "body", AttributeName, javaPointer(testBucket, "k"), nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e.s3.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
				cancel()
				return nil, context.Canceled
			}
			out, err := e.receiveAll(ctx)
			if errors.Is(err, ErrPayloadNotFound) {
				t.Errorf("expect cancellation not to count as not found, got %v", err)
			}
			if e.log.Count("DeleteMessage")+e.log.Count("DeleteMessageBatch") != 0 {
				t.Errorf("expect no delete call")
			}
			switch policy {
			case UnresolvedFail:
				if out != nil || !errors.Is(err, context.Canceled) {
					t.Errorf("expect nil output and context.Canceled, got %v, %v", out, err)
				}
			case UnresolvedReturn:
				if out == nil || len(out.Messages) != 1 || !errors.Is(err, context.Canceled) {
					t.Errorf("expect the message returned unresolved, got %v, %v", out, err)
				}
			default:
				us := GetUnresolvedMessages(out.ResultMetadata)
				if err != nil || len(out.Messages) != 0 || len(us) != 1 || us[0].Code != CodePayloadUnavailable || us[0].Action != UnresolvedLeft {
					t.Errorf("expect the message left as unavailable, got %v, %+v", err, us)
				}
			}
		})
	}
}

func TestReceiveMessageSQSError(t *testing.T) {
	e := newTestEnv(t)
	injected := &types.QueueDoesNotExist{}
	e.sqs.ReceiveMessageFn = func(*sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) { return nil, injected }
	out, err := e.receiveAll(context.Background())
	var got *types.QueueDoesNotExist
	if out != nil || !errors.As(err, &got) || got != injected {
		t.Errorf("expect the SQS error as is, got %v, %v", out, err)
	}
}

func TestReceiveMessageOptFnsPassedThrough(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Unresolved = UnresolvedDelete })
	e.sqs.Enqueue(testQueueURL, javaPointer(testBucket, "gone"), map[string]types.MessageAttributeValue{AttributeName: numberAttr(1)})
	_, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(testQueueURL)},
		func(o *sqs.Options) { o.Region = "sqs-region" })
	if err != nil {
		t.Fatal(err)
	}
	e.expectCalls(t, "ReceiveMessage", "GetObject", "DeleteMessageBatch")
	for _, c := range e.log.Records() {
		// The caller's and the user-agent key, and on ReceiveMessage the one
		// that moves the bodies' checks to sqsx (bodyChecksPerMessage).
		want := 2
		if c.Op == "ReceiveMessage" {
			want = 3
		}
		if o, ok := c.Options.(sqs.Options); ok && (c.OptFns != want || o.Region != "sqs-region") {
			t.Errorf("expect the optFn passed to %v, got %v (region %q)", c.Op, c.OptFns, o.Region)
		}
	}
}

func TestReceiveMessageNilParams(t *testing.T) {
	e := newTestEnv(t)
	_, err := e.client.ReceiveMessage(context.Background(), nil)
	var qne *types.QueueDoesNotExist
	if !errors.As(err, &qne) {
		t.Errorf("expect SQS's error for a missing queue URL, got %v", err)
	}
	sent := sqsxtest.Params[*sqs.ReceiveMessageInput](e.log)
	if len(sent) != 1 || len(sent[0].MessageAttributeNames) != 2 {
		t.Errorf("expect a request naming both reserved attributes, got %+v", sent)
	}
}

func TestResolveMessage(t *testing.T) {
	e := newTestEnv(t)
	e.enqueueOffloaded(testBucket, "k", "the payload", AttributeName, javaPointer(testBucket, "k"), nil)
	e.enqueueOffloaded(testBucket, "gone", "", AttributeName, javaPointer(testBucket, "missing"), nil)
	e.sqs.Enqueue(testQueueURL, "plain", nil)
	out, err := e.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(testQueueURL), MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
	})
	if err != nil || len(out.Messages) != 3 {
		t.Fatalf("raw receive: %v, %d messages", err, len(out.Messages))
	}
	good, missing, plain := out.Messages[0], out.Messages[1], out.Messages[2]

	offloaded, err := e.client.ResolveMessage(context.Background(), &good)
	if !offloaded || err != nil || aws.ToString(good.Body) != "the payload" || len(good.MessageAttributes) != 0 {
		t.Errorf("expect the payload resolved in place, got %v, %v, %q %v", offloaded, err, aws.ToString(good.Body), good.MessageAttributes)
	}
	if h, err := payload.ParseReceiptHandle(aws.ToString(good.ReceiptHandle)); err != nil || h.Pointer.Key != "k" {
		t.Errorf("expect the handle to name the payload, got %v, %v", h, err)
	}

	before := aws.ToString(missing.Body)
	offloaded, err = e.client.ResolveMessage(context.Background(), &missing)
	if !offloaded || !errors.Is(err, ErrPayloadNotFound) || UnresolvedCode(err) != CodePayloadNotFound {
		t.Errorf("expect not found, got %v, %v (%s)", offloaded, err, UnresolvedCode(err))
	}
	if aws.ToString(missing.Body) != before {
		t.Error("expect a message that failed to resolve left as it was")
	}

	offloaded, err = e.client.ResolveMessage(context.Background(), &plain)
	if offloaded || err != nil || aws.ToString(plain.Body) != "plain" {
		t.Errorf("expect a plain message untouched, got %v, %v", offloaded, err)
	}
	if e.log.Count("DeleteMessage")+e.log.Count("DeleteMessageBatch") != 0 {
		t.Error("expect ResolveMessage to delete nothing")
	}
}

// TestReceiveMessageChecksAnswer: the SDK checks only the MD5 of a body
// that arrived. An answer whose reserved attribute was corrupted on the way
// would hand a pointer back as the body, one that lost the body an empty
// message, one that lost a receipt handle a message nobody can acknowledge;
// sqsx leaves each in the queue, where it is intact.
func TestReceiveMessageChecksAnswer(t *testing.T) {
	ptr := javaPointer(testBucket, "k")
	good := map[string]types.MessageAttributeValue{AttributeName: numberAttr(4)}
	sum := attributesMD5(good)
	for name, tc := range map[string]struct {
		attrs map[string]types.MessageAttributeValue
		md5   string
		lose  func(*types.Message)
		code  string // "" if the payload resolves
	}{
		"intact":                    {good, sum, nil, ""},
		"reserved name corrupted":   {map[string]types.MessageAttributeValue{"ExtendedPayloadSizf": numberAttr(4)}, sum, nil, CodeAttributesChecksumMismatch},
		"value corrupted":           {map[string]types.MessageAttributeValue{AttributeName: numberAttr(5)}, sum, nil, CodeAttributesChecksumMismatch},
		"no MD5 sent (not checked)": {good, "", nil, ""},
		// A flip in the key "MessageAttributes" makes the decoder drop them
		// all; SQS sends no MD5 when it returns no attributes.
		"attributes lost": {nil, sum, nil, CodeAttributesChecksumMismatch},
		// A flip in the key "Body": the SDK checks no MD5 without a body.
		"body lost":           {good, sum, func(m *types.Message) { m.Body = nil }, CodeMessageIncomplete},
		"receipt handle lost": {good, sum, func(m *types.Message) { m.ReceiptHandle = nil }, CodeMessageIncomplete},
		"message id lost":     {good, sum, func(m *types.Message) { m.MessageId = nil }, CodeMessageIncomplete},
	} {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			e.s3.SetObject(testBucket, "k", []byte("body"))
			e.sqs.ReceiveMessageFn = func(*sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
				m := types.Message{MessageId: aws.String("m1"), ReceiptHandle: aws.String("h1"), Body: aws.String(ptr),
					MD5OfBody: aws.String(fmt.Sprintf("%x", md5.Sum([]byte(ptr)))), MessageAttributes: maps.Clone(tc.attrs)}
				if tc.md5 != "" {
					m.MD5OfMessageAttributes = aws.String(tc.md5)
				}
				if tc.lose != nil {
					tc.lose(&m)
				}
				return &sqs.ReceiveMessageOutput{Messages: []types.Message{m}}, nil
			}
			out, err := e.receiveAll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			us := GetUnresolvedMessages(out.ResultMetadata)
			if tc.code == "" {
				if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "body" || len(us) != 0 {
					t.Fatalf("expect the payload, got %d messages, %+v", len(out.Messages), us)
				}
				return
			}
			if len(out.Messages) != 0 || len(us) != 1 || us[0].Code != tc.code || us[0].Action != UnresolvedLeft {
				t.Fatalf("expect the message left as %s, got %d messages, %+v", tc.code, len(out.Messages), us)
			}
		})
	}
}
