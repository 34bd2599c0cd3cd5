package sqsx

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

// received is a message received through the client, with what the fake
// knows about it.
type received struct {
	msg      types.Message
	original string          // the handle SQS issued
	pointer  payload.Pointer // zero if not offloaded
}

// sendAndReceive sends bodies through the client, receives them and resets
// the log.
func (e *testEnv) sendAndReceive(t *testing.T, bodies ...string) []received {
	t.Helper()
	for _, b := range bodies {
		if _, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(b),
		}); err != nil {
			t.Fatal(err)
		}
	}
	return e.receiveReset(t)
}

// receiveReset receives every message through the client and resets the log.
func (e *testEnv) receiveReset(t *testing.T) []received {
	t.Helper()
	out, err := e.receiveAll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var rs []received
	for _, m := range out.Messages {
		h, err := payload.ParseReceiptHandle(aws.ToString(m.ReceiptHandle))
		if err != nil {
			t.Fatal(err)
		}
		if want := e.originalHandle(t, aws.ToString(m.MessageId)); h.Original != want {
			t.Fatalf("expect original handle %v inside %v", want, aws.ToString(m.ReceiptHandle))
		}
		rs = append(rs, received{msg: m, original: h.Original, pointer: h.Pointer})
	}
	e.log.Reset()
	return rs
}

func (e *testEnv) hasObject(p payload.Pointer) bool {
	_, ok := e.s3.Object(p.Bucket, p.Key)
	return ok
}

var largeBody = strings.Repeat("L", 300000)

func TestDeleteMessageDeletesMessageThenPayload(t *testing.T) {
	e := newTestEnv(t)
	r := e.sendAndReceive(t, largeBody)[0]
	in := &sqs.DeleteMessageInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: r.msg.ReceiptHandle}
	before := deepCopy(t, in)
	out, err := e.client.DeleteMessage(context.Background(), in, func(o *sqs.Options) { o.Region = "sqs-region" })
	if err != nil || out == nil {
		t.Fatalf("expect output and no error, got %v, %v", out, err)
	}
	e.expectCalls(t, "DeleteMessage", "DeleteObject")
	sent := sqsxtest.Params[*sqs.DeleteMessageInput](e.log)[0]
	if got := aws.ToString(sent.ReceiptHandle); got != r.original {
		t.Errorf("expect the original handle %v sent, got %v", r.original, got)
	}
	if o := e.log.Records()[0].Options.(sqs.Options); o.Region != "sqs-region" {
		t.Errorf("expect the optFn passed through, got region %q", o.Region)
	}
	del := sqsxtest.Params[*s3.DeleteObjectInput](e.log)[0]
	if aws.ToString(del.Bucket) != r.pointer.Bucket || aws.ToString(del.Key) != r.pointer.Key {
		t.Errorf("expect %v deleted, got %v/%v", r.pointer, aws.ToString(del.Bucket), aws.ToString(del.Key))
	}
	expectUnchanged(t, before, in)
	if e.sqs.Len(testQueueURL) != 0 {
		t.Errorf("expect the message deleted")
	}
	e.expectObjects(t, 0)
}

func TestDeleteMessageSQSFailureKeepsPayload(t *testing.T) {
	e := newTestEnv(t)
	r := e.sendAndReceive(t, largeBody)[0]
	injected := &types.ReceiptHandleIsInvalid{Message: aws.String("expired")}
	e.sqs.DeleteMessageFn = func(*sqs.DeleteMessageInput) (*sqs.DeleteMessageOutput, error) { return nil, injected }
	out, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: r.msg.ReceiptHandle})
	var got *types.ReceiptHandleIsInvalid
	if out != nil || !errors.As(err, &got) || got != injected {
		t.Errorf("expect nil output and the SQS error, got %v, %v", out, err)
	}
	e.expectCalls(t, "DeleteMessage")
	if !e.hasObject(r.pointer) {
		t.Errorf("expect the payload kept")
	}
}

func TestDeleteMessageKeepPayloadsOnDelete(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.KeepPayloadsOnDelete = true })
	r := e.sendAndReceive(t, largeBody)[0]
	if _, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: r.msg.ReceiptHandle}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "DeleteMessage")
	if got := aws.ToString(sqsxtest.Params[*sqs.DeleteMessageInput](e.log)[0].ReceiptHandle); got != r.original {
		t.Errorf("expect the original handle sent, got %v", got)
	}
	if !e.hasObject(r.pointer) || e.sqs.Len(testQueueURL) != 0 {
		t.Errorf("expect the message deleted and the payload kept")
	}
}

func TestDeleteMessagePlainHandle(t *testing.T) {
	e := newTestEnv(t)
	r := e.sendAndReceive(t, "small")[0]
	if aws.ToString(r.msg.ReceiptHandle) != r.original {
		t.Fatalf("expect a plain handle for a small message")
	}
	in := &sqs.DeleteMessageInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: r.msg.ReceiptHandle}
	if _, err := e.client.DeleteMessage(context.Background(), in); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "DeleteMessage")
	if sent := sqsxtest.Params[*sqs.DeleteMessageInput](e.log)[0]; sent != in {
		t.Errorf("expect the caller's params passed through")
	}
}

// Malformed receipt handles: both markers, but not the layout.
var badHandles = map[string]string{
	"key section first": payload.KeyMarker + "k" + payload.KeyMarker + payload.BucketMarker + testBucket + payload.BucketMarker + "orig",
	"no original":       payload.BucketMarker + testBucket + payload.BucketMarker + payload.KeyMarker + "k" + payload.KeyMarker,
	"unterminated key":  payload.BucketMarker + testBucket + payload.BucketMarker + payload.KeyMarker + "k",
	"text before":       "x" + payload.BucketMarker + testBucket + payload.BucketMarker + payload.KeyMarker + "k" + payload.KeyMarker + "orig",
	"invalid bucket":    payload.BucketMarker + "Not_A_Bucket" + payload.BucketMarker + payload.KeyMarker + "k" + payload.KeyMarker + "orig",
	"dot-dot key":       payload.BucketMarker + testBucket + payload.BucketMarker + payload.KeyMarker + "a/../b" + payload.KeyMarker + "orig",
	"empty key":         payload.BucketMarker + testBucket + payload.BucketMarker + payload.KeyMarker + payload.KeyMarker + "orig",
}

func TestDeleteMessageInvalidHandle(t *testing.T) {
	for name, handle := range badHandles {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			out, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
				QueueUrl: aws.String(testQueueURL), ReceiptHandle: aws.String(handle),
			})
			if out != nil {
				t.Errorf("expect nil output, got %+v", out)
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != "ReceiptHandle" || ie.Op != "DeleteMessage" {
				t.Fatalf("expect *InputError for DeleteMessage ReceiptHandle, got %T %v", err, err)
			}
			if !errors.Is(err, ErrInvalidReceiptHandle) {
				t.Errorf("expect errors.Is(err, ErrInvalidReceiptHandle), got %v", err)
			}
			e.expectCalls(t)
		})
	}
}

func TestDeleteMessageBucketNotAllowed(t *testing.T) {
	handle := payload.ReceiptHandle{Original: "orig", Pointer: payload.Pointer{Bucket: "other-bucket", Key: "k"}}.String()
	t.Run("refused", func(t *testing.T) {
		e := newTestEnv(t)
		e.s3.SetObject("other-bucket", "k", []byte("x"))
		out, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: aws.String(handle)})
		if out != nil || !errors.Is(err, ErrBucketNotAllowed) {
			t.Errorf("expect nil output and ErrBucketNotAllowed, got %v, %v", out, err)
		}
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "ReceiptHandle" {
			t.Errorf("expect *InputError naming ReceiptHandle, got %T", err)
		}
		e.expectCalls(t)
		if _, ok := e.s3.Object("other-bucket", "k"); !ok {
			t.Errorf("expect the object untouched")
		}
	})
	t.Run("KeepPayloadsOnDelete", func(t *testing.T) {
		e := newTestEnv(t, func(o *Options) { o.KeepPayloadsOnDelete = true })
		e.sqs.DeleteMessageFn = func(*sqs.DeleteMessageInput) (*sqs.DeleteMessageOutput, error) {
			return &sqs.DeleteMessageOutput{}, nil
		}
		if _, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: aws.String(handle)}); err != nil {
			t.Fatalf("expect no error (the payload is not touched), got %v", err)
		}
		e.expectCalls(t, "DeleteMessage")
		if got := aws.ToString(sqsxtest.Params[*sqs.DeleteMessageInput](e.log)[0].ReceiptHandle); got != "orig" {
			t.Errorf("expect the original handle sent, got %v", got)
		}
	})
}

func TestDeleteMessageS3Failure(t *testing.T) {
	e := newTestEnv(t)
	r := e.sendAndReceive(t, largeBody)[0]
	e.s3.DeleteObjectFn = func(*s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "denied"}
	}
	out, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: r.msg.ReceiptHandle})
	if out == nil {
		t.Errorf("expect the SQS output returned with the error, got nil")
	}
	var pe *PayloadError
	if !errors.As(err, &pe) || pe.Op != "DeleteObject" || pe.Key != r.pointer.Key {
		t.Fatalf("expect a *PayloadError for DeleteObject, got %T %v", err, err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("expect the S3 error reachable, got %v", err)
	}
	e.expectCalls(t, "DeleteMessage", "DeleteObject")
	if e.sqs.Len(testQueueURL) != 0 || !e.hasObject(r.pointer) {
		t.Errorf("expect the message gone and the payload left")
	}
}

func TestDeleteMessageNilParams(t *testing.T) {
	e := newTestEnv(t)
	_, err := e.client.DeleteMessage(context.Background(), nil)
	var qne *types.QueueDoesNotExist
	if !errors.As(err, &qne) {
		t.Errorf("expect SQS's error, got %v", err)
	}
	e.expectCalls(t, "DeleteMessage")
}

func deleteEntry(id string, handle *string) types.DeleteMessageBatchRequestEntry {
	return types.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: handle}
}

func TestDeleteMessageBatch(t *testing.T) {
	e := newTestEnv(t)
	rs := e.sendAndReceive(t, largeBody, "small", largeBody+"2")
	in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(testQueueURL), Entries: []types.DeleteMessageBatchRequestEntry{
		deleteEntry("0", rs[0].msg.ReceiptHandle), deleteEntry("1", rs[1].msg.ReceiptHandle), deleteEntry("2", rs[2].msg.ReceiptHandle),
	}}
	before := deepCopy(t, in)
	out, err := e.client.DeleteMessageBatch(context.Background(), in, func(o *sqs.Options) { o.Region = "sqs-region" })
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if len(out.Successful) != 3 || len(out.Failed) != 0 {
		t.Errorf("expect 3 deleted, got %+v", out)
	}
	e.expectCalls(t, "DeleteMessageBatch", "DeleteObjects")
	sent := sqsxtest.Params[*sqs.DeleteMessageBatchInput](e.log)[0]
	for i, en := range sent.Entries {
		if got := aws.ToString(en.ReceiptHandle); got != rs[i].original {
			t.Errorf("entry %v: expect the original handle, got %v", i, got)
		}
	}
	if o := e.log.Records()[0].Options.(sqs.Options); o.Region != "sqs-region" {
		t.Errorf("expect the optFn passed through, got region %q", o.Region)
	}
	dos := sqsxtest.Params[*s3.DeleteObjectsInput](e.log)[0]
	var keys []string
	for _, o := range dos.Delete.Objects {
		keys = append(keys, aws.ToString(o.Key))
	}
	slices.Sort(keys)
	want := []string{rs[0].pointer.Key, rs[2].pointer.Key}
	slices.Sort(want)
	if diff := cmp.Diff(want, keys); diff != "" || aws.ToString(dos.Bucket) != testBucket {
		t.Errorf("DeleteObjects mismatch (-want +got):\n%s", diff)
	}
	expectUnchanged(t, before, in)
	e.expectObjects(t, 0)
	if e.sqs.Len(testQueueURL) != 0 {
		t.Errorf("expect the queue empty")
	}
}

func TestDeleteMessageBatchGroupsByBucket(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Bucket = "bucket-a"; o.AllowedBuckets = []string{"bucket-a", "bucket-b"} })
	for i, b := range []string{"bucket-a", "bucket-b", "bucket-a", "bucket-b"} {
		key := "k" + itoa(i)
		e.enqueueOffloaded(b, key, "payload", AttributeName, javaPointer(b, key), nil)
	}
	rs := e.receiveReset(t)
	in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(testQueueURL)}
	for i, r := range rs {
		in.Entries = append(in.Entries, deleteEntry(itoa(i), r.msg.ReceiptHandle))
	}
	if _, err := e.client.DeleteMessageBatch(context.Background(), in); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "DeleteMessageBatch", "DeleteObjects", "DeleteObjects")
	got := map[string]int{}
	for _, d := range sqsxtest.Params[*s3.DeleteObjectsInput](e.log) {
		got[aws.ToString(d.Bucket)] += len(d.Delete.Objects)
	}
	if diff := cmp.Diff(map[string]int{"bucket-a": 2, "bucket-b": 2}, got); diff != "" {
		t.Errorf("objects per bucket mismatch (-want +got):\n%s", diff)
	}
	e.expectObjects(t, 0)
}

func TestDeleteMessageBatchFailedEntriesKeepPayloads(t *testing.T) {
	e := newTestEnv(t)
	rs := e.sendAndReceive(t, largeBody, largeBody+"2")
	// An entry SQS rejects: a stale original handle with a valid pointer.
	e.s3.SetObject(testBucket, "stale-key", []byte("x"))
	stale := payload.ReceiptHandle{Original: "stale", Pointer: payload.Pointer{Bucket: testBucket, Key: "stale-key"}}.String()
	in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(testQueueURL), Entries: []types.DeleteMessageBatchRequestEntry{
		deleteEntry("ok", rs[0].msg.ReceiptHandle),
		deleteEntry("stale", aws.String(stale)),
		deleteEntry("bad", aws.String(badHandles["key section first"])),
		deleteEntry("foreign", aws.String(payload.ReceiptHandle{Original: "o", Pointer: payload.Pointer{Bucket: "other-bucket", Key: "k"}}.String())),
	}}
	out, err := e.client.DeleteMessageBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "ok" {
		t.Errorf("expect only ok deleted, got %+v", out.Successful)
	}
	failed := map[string]types.BatchResultErrorEntry{}
	for _, f := range out.Failed {
		failed[aws.ToString(f.Id)] = f
	}
	wantCodes := map[string]string{"stale": "ReceiptHandleIsInvalid", "bad": CodeInvalidReceiptHandle, "foreign": CodeBucketNotAllowed}
	for id, code := range wantCodes {
		f, ok := failed[id]
		if !ok || aws.ToString(f.Code) != code || !f.SenderFault {
			t.Errorf("entry %v: expect Failed with code %v and SenderFault, got %+v", id, code, f)
		}
	}
	if len(out.Failed) != 3 {
		t.Errorf("expect 3 failed entries, got %v", len(out.Failed))
	}
	e.expectCalls(t, "DeleteMessageBatch", "DeleteObjects")
	if got := len(sqsxtest.Params[*sqs.DeleteMessageBatchInput](e.log)[0].Entries); got != 2 {
		t.Errorf("expect only the 2 valid entries sent, got %v", got)
	}
	if e.hasObject(rs[0].pointer) {
		t.Errorf("expect ok's payload deleted")
	}
	if !e.hasObject(payload.Pointer{Bucket: testBucket, Key: "stale-key"}) || !e.hasObject(rs[1].pointer) {
		t.Errorf("expect the failed and untouched payloads kept")
	}
}

func TestDeleteMessageBatchAllInvalid(t *testing.T) {
	e := newTestEnv(t)
	out, err := e.client.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(testQueueURL),
		Entries:  []types.DeleteMessageBatchRequestEntry{deleteEntry("a", aws.String(badHandles["no original"]))},
	})
	if err != nil || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != CodeInvalidReceiptHandle {
		t.Errorf("expect 1 local failure, got %+v, %v", out, err)
	}
	e.expectCalls(t)
}

func TestDeleteMessageBatchKeepPayloadsOnDelete(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.KeepPayloadsOnDelete = true })
	rs := e.sendAndReceive(t, largeBody)
	out, err := e.client.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(testQueueURL), Entries: []types.DeleteMessageBatchRequestEntry{deleteEntry("a", rs[0].msg.ReceiptHandle)},
	})
	if err != nil || len(out.Successful) != 1 {
		t.Fatalf("expect 1 deleted, got %+v, %v", out, err)
	}
	e.expectCalls(t, "DeleteMessageBatch")
	e.expectObjects(t, 1)
}

func TestDeleteMessageBatchSQSError(t *testing.T) {
	e := newTestEnv(t)
	rs := e.sendAndReceive(t, largeBody)
	injected := errors.New("network down")
	e.sqs.DeleteMessageBatchFn = func(*sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) { return nil, injected }
	out, err := e.client.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(testQueueURL), Entries: []types.DeleteMessageBatchRequestEntry{deleteEntry("a", rs[0].msg.ReceiptHandle)},
	})
	if out != nil || !errors.Is(err, injected) {
		t.Errorf("expect nil output and the SQS error, got %v, %v", out, err)
	}
	e.expectCalls(t, "DeleteMessageBatch")
	e.expectObjects(t, 1)
}

func TestDeleteMessageBatchS3Errors(t *testing.T) {
	e := newTestEnv(t)
	rs := e.sendAndReceive(t, largeBody, largeBody+"2")
	e.s3.DeleteErrors = map[string]string{rs[1].pointer.Key: "AccessDenied"}
	out, err := e.client.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(testQueueURL), Entries: []types.DeleteMessageBatchRequestEntry{
			deleteEntry("a", rs[0].msg.ReceiptHandle), deleteEntry("b", rs[1].msg.ReceiptHandle),
		},
	})
	if out == nil || len(out.Successful) != 2 {
		t.Errorf("expect the SQS output returned with the error, got %+v", out)
	}
	var pe *PayloadError
	if !errors.As(err, &pe) || pe.Key != rs[1].pointer.Key || pe.Op != "DeleteObjects" {
		t.Fatalf("expect a *PayloadError for b's object, got %T %v", err, err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("expect the S3 error code reachable, got %v", err)
	}
	if e.hasObject(rs[0].pointer) || !e.hasObject(rs[1].pointer) {
		t.Errorf("expect a's payload deleted and b's left")
	}
}

func TestDeleteMessageBatchMalformedRequestPassedThrough(t *testing.T) {
	cases := map[string]*sqs.DeleteMessageBatchInput{
		"nil params": nil,
		"no entries": {QueueUrl: aws.String(testQueueURL)},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			_, err := e.client.DeleteMessageBatch(context.Background(), in)
			if err == nil {
				t.Errorf("expect SQS's error, got nil")
			}
			e.expectCalls(t, "DeleteMessageBatch")
			if sent := sqsxtest.Params[*sqs.DeleteMessageBatchInput](e.log)[0]; sent != in {
				t.Errorf("expect the params passed through")
			}
		})
	}
}

func TestChangeMessageVisibility(t *testing.T) {
	e := newTestEnv(t)
	rs := e.sendAndReceive(t, largeBody, "small")
	for _, r := range rs {
		in := &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: r.msg.ReceiptHandle, VisibilityTimeout: 0}
		before := deepCopy(t, in)
		if _, err := e.client.ChangeMessageVisibility(context.Background(), in, func(o *sqs.Options) { o.Region = "r" }); err != nil {
			t.Fatalf("expect no error, got %v", err)
		}
		expectUnchanged(t, before, in)
	}
	e.expectCalls(t, "ChangeMessageVisibility", "ChangeMessageVisibility")
	for i, c := range e.log.Records() {
		in := c.Params.(*sqs.ChangeMessageVisibilityInput)
		if got := aws.ToString(in.ReceiptHandle); got != rs[i].original {
			t.Errorf("call %v: expect the original handle %v, got %v", i, rs[i].original, got)
		}
		if c.Options.(sqs.Options).Region != "r" {
			t.Errorf("call %v: expect the optFn passed through", i)
		}
	}
	// Visible again, so both can be received again.
	if again := e.receiveReset(t); len(again) != 2 {
		t.Errorf("expect both messages visible again, got %v", len(again))
	}
}

func TestChangeMessageVisibilityInvalidHandle(t *testing.T) {
	for name, handle := range badHandles {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			_, err := e.client.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(testQueueURL), ReceiptHandle: aws.String(handle),
			})
			var ie *InputError
			if !errors.As(err, &ie) || ie.Op != "ChangeMessageVisibility" || ie.Field != "ReceiptHandle" || !errors.Is(err, ErrInvalidReceiptHandle) {
				t.Errorf("expect *InputError wrapping ErrInvalidReceiptHandle, got %T %v", err, err)
			}
			e.expectCalls(t)
		})
	}
}

func TestChangeMessageVisibilityBatch(t *testing.T) {
	e := newTestEnv(t)
	rs := e.sendAndReceive(t, largeBody, "small")
	in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(testQueueURL), Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("big"), ReceiptHandle: rs[0].msg.ReceiptHandle, VisibilityTimeout: 0},
		{Id: aws.String("bad"), ReceiptHandle: aws.String(badHandles["no original"]), VisibilityTimeout: 0},
		{Id: aws.String("small"), ReceiptHandle: rs[1].msg.ReceiptHandle, VisibilityTimeout: 0},
	}}
	before := deepCopy(t, in)
	out, err := e.client.ChangeMessageVisibilityBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	expectUnchanged(t, before, in)
	if len(out.Successful) != 2 || len(out.Failed) != 1 {
		t.Fatalf("expect 2 successful and 1 failed, got %+v", out)
	}
	if f := out.Failed[0]; aws.ToString(f.Id) != "bad" || aws.ToString(f.Code) != CodeInvalidReceiptHandle || !f.SenderFault {
		t.Errorf("expect bad failed with %v, got %+v", CodeInvalidReceiptHandle, f)
	}
	e.expectCalls(t, "ChangeMessageVisibilityBatch")
	sent := sqsxtest.Params[*sqs.ChangeMessageVisibilityBatchInput](e.log)[0]
	var handles []string
	for _, en := range sent.Entries {
		handles = append(handles, aws.ToString(en.ReceiptHandle))
	}
	if diff := cmp.Diff([]string{rs[0].original, rs[1].original}, handles); diff != "" {
		t.Errorf("handles sent mismatch (-want +got):\n%s", diff)
	}
}

func TestChangeMessageVisibilityBatchAllInvalid(t *testing.T) {
	e := newTestEnv(t)
	out, err := e.client.ChangeMessageVisibilityBatch(context.Background(), &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(testQueueURL),
		Entries:  []types.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("a"), ReceiptHandle: aws.String(badHandles["empty key"])}},
	})
	if err != nil || len(out.Failed) != 1 {
		t.Errorf("expect 1 local failure, got %+v, %v", out, err)
	}
	e.expectCalls(t)
}

// TestBucketAlwaysAllowed: naming other buckets in AllowedBuckets does not
// lock the client out of its own payloads.
func TestBucketAlwaysAllowed(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.AllowedBuckets = []string{"other-bucket"} })
	if _, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", DefaultThreshold+1)),
	}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(testQueueURL)})
	if err != nil || len(out.Messages) != 1 || len(aws.ToString(out.Messages[0].Body)) != DefaultThreshold+1 {
		t.Fatalf("expect the payload resolved, got %+v, %v", out, err)
	}
	if _, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
		QueueUrl: aws.String(testQueueURL), ReceiptHandle: out.Messages[0].ReceiptHandle,
	}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectObjects(t, 0)
}

// TestDeleteMessageBatchGarbledAnswerKeepsPayloads: one changed bit can turn
// the id of a deleted entry into that of a failed one, so that the answer
// names the failed entry as both deleted and failed, and the deleted one as
// neither. The failed entry's message is still in the queue: deleting its
// payload would lose it. Both payloads are kept and reported.
func TestDeleteMessageBatchGarbledAnswerKeepsPayloads(t *testing.T) {
	e := newTestEnv(t)
	rs := e.sendAndReceive(t, largeBody, largeBody+"2")
	e.sqs.DeleteMessageBatchFn = func(*sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
		// "a" failed and "b" was deleted; "b" became "a" on the way back.
		return &sqs.DeleteMessageBatchOutput{
			Successful: []types.DeleteMessageBatchResultEntry{{Id: aws.String("a")}},
			Failed:     []types.BatchResultErrorEntry{{Id: aws.String("a"), Code: aws.String("ReceiptHandleIsInvalid"), SenderFault: true}},
		}, nil
	}
	_, err := e.client.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(testQueueURL),
		Entries:  []types.DeleteMessageBatchRequestEntry{deleteEntry("a", rs[0].msg.ReceiptHandle), deleteEntry("b", rs[1].msg.ReceiptHandle)},
	})
	var ke *payload.KeptError
	if !errors.As(err, &ke) || !ke.Ambiguous {
		t.Fatalf("expect an ambiguous KeptError, got %v", err)
	}
	for _, r := range rs {
		if !e.hasObject(r.pointer) || !slices.Contains(ke.Pointers, r.pointer) {
			t.Errorf("expect %v kept and named in the error, got %v", r.pointer, ke.Pointers)
		}
	}
	if n := e.log.Count("DeleteObjects") + e.log.Count("DeleteObject"); n != 0 {
		t.Errorf("expect no payload deleted, got %d calls", n)
	}
}
