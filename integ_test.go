package sqsx_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
)

// These tests run every operation against real S3 and SQS servers (see
// scripts/servers.sh). Without them they skip, and under CI=true they fail.

type integ struct {
	t      *testing.T
	env    *testenv.Clients
	bucket string
	queue  string
	client *sqsx.Client
}

func newInteg(t *testing.T, fifo bool, queueAttrs map[string]string, optFns ...func(*sqsx.Options)) *integ {
	t.Helper()
	env := testenv.Require(t)
	it := &integ{t: t, env: env, bucket: env.Bucket(t), queue: env.Queue(t, fifo, queueAttrs)}
	it.client = it.newClient(optFns...)
	return it
}

func (it *integ) newClient(optFns ...func(*sqsx.Options)) *sqsx.Client {
	it.t.Helper()
	fns := append([]func(*sqsx.Options){func(o *sqsx.Options) { o.Bucket = it.bucket }}, optFns...)
	c, err := sqsx.New(it.env.SQS, it.env.S3, fns...)
	if err != nil {
		it.t.Fatalf("sqsx.New: %v", err)
	}
	return c
}

func (it *integ) keys() []string { return it.env.Keys(it.t, it.bucket) }

func (it *integ) send(body string, attrs map[string]types.MessageAttributeValue) *sqs.SendMessageOutput {
	it.t.Helper()
	out, err := it.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(it.queue), MessageBody: aws.String(body), MessageAttributes: attrs,
	})
	if err != nil {
		it.t.Fatalf("SendMessage (%d bytes): %v", len(body), err)
	}
	return out
}

func (it *integ) receive(n int) []types.Message {
	it.t.Helper()
	return testenv.ReceiveAll(it.t, it.client, &sqs.ReceiveMessageInput{
		QueueUrl:              aws.String(it.queue),
		MessageAttributeNames: []string{"All"},
		VisibilityTimeout:     5,
	}, n, 30*time.Second)
}

func (it *integ) delete(m types.Message) {
	it.t.Helper()
	if _, err := it.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
		QueueUrl: aws.String(it.queue), ReceiptHandle: m.ReceiptHandle,
	}); err != nil {
		it.t.Fatalf("DeleteMessage: %v", err)
	}
}

// expectEmptyQueue checks that no message is visible in the queue.
// expectNoMessages waits until the queue holds no message, visible or in
// flight, as its approximate counts say, and fails if one remains after
// wait. Unlike a receive, it does not depend on visibility timeouts, which a
// loaded machine can let run out.
func (it *integ) expectNoMessages(wait time.Duration) {
	it.t.Helper()
	var n int
	for deadline := time.Now().Add(wait); ; {
		out, err := it.env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(it.queue),
			AttributeNames: []types.QueueAttributeName{
				types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			},
		})
		if err != nil {
			it.t.Fatalf("GetQueueAttributes: %v", err)
		}
		n = 0
		for _, v := range out.Attributes {
			k, _ := strconv.Atoi(v)
			n += k
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	it.t.Fatalf("expect no message in the queue, got %d after %v", n, wait)
}

func (it *integ) expectEmptyQueue() {
	it.t.Helper()
	out, err := it.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(it.queue), WaitTimeSeconds: 1, MaxNumberOfMessages: 10,
	})
	if err != nil {
		it.t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(out.Messages) != 0 {
		it.t.Fatalf("expect an empty queue, got %d message(s)", len(out.Messages))
	}
}

// text returns n bytes of text that mixes ASCII and multi-byte UTF-8.
func text(n int) string {
	// Only BMP characters: fauxqs 2.4.1 rejects characters above U+FFFF in
	// message bodies (real SQS accepts them); offloaded bodies test them.
	const unit = "sqsx ✓ größe 日本語 "
	s := strings.Repeat(unit, n/len(unit)+1)
	for len(s) > n { // cut at a rune boundary, then pad with ASCII
		s = s[:n]
		for !utfValid(s) {
			s = s[:len(s)-1]
		}
	}
	return s + strings.Repeat("x", n-len(s))
}

func failures(fs []types.BatchResultErrorEntry) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "[%s %s %s] ", aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message))
	}
	return b.String()
}

func utfValid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestIntegRoundTripAtThreshold(t *testing.T) {
	cases := map[string]struct {
		size      int
		offloaded bool
		suffix    string
	}{
		"1 KiB":                     {1024, false, ""},
		"262144 bytes":              {262144, false, ""},
		"262145 bytes":              {262145, true, ""},
		"300 KiB":                   {300 << 10, true, ""},
		"300 KiB with 4-byte UTF-8": {300 << 10, true, "🚀"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			it := newInteg(t, false, nil)
			body := text(tc.size-len(tc.suffix)) + tc.suffix
			it.send(body, nil)
			if got := len(it.keys()); got != map[bool]int{false: 0, true: 1}[tc.offloaded] {
				t.Fatalf("expect offloaded=%v, got %d objects in the bucket", tc.offloaded, got)
			}
			m := it.receive(1)[0]
			if aws.ToString(m.Body) != body {
				t.Fatalf("expect the %d-byte body back, got %d bytes", len(body), len(aws.ToString(m.Body)))
			}
			if len(m.MessageAttributes) != 0 {
				t.Fatalf("expect the reserved attributes stripped, got %v", m.MessageAttributes)
			}
			hasMarkers := strings.Contains(aws.ToString(m.ReceiptHandle), payload.KeyMarker)
			if hasMarkers != tc.offloaded {
				t.Fatalf("expect a rewritten receipt handle: %v, got %q", tc.offloaded, aws.ToString(m.ReceiptHandle))
			}
			it.delete(m)
			if keys := it.keys(); len(keys) != 0 {
				t.Fatalf("expect the payload deleted with the message, got %v", keys)
			}
			it.expectEmptyQueue()
		})
	}
}

func TestIntegAttributesPreserved(t *testing.T) {
	it := newInteg(t, false, nil)
	attrs := map[string]types.MessageAttributeValue{
		"s":   {DataType: aws.String("String"), StringValue: aws.String("héllo ✓")},
		"n":   {DataType: aws.String("Number"), StringValue: aws.String("-12.5")},
		"b":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 2, 0xff}},
		"c.t": {DataType: aws.String("String.custom"), StringValue: aws.String("x")},
	}
	for _, size := range []int{100, 400 << 10} {
		body := text(size)
		it.send(body, attrs)
		m := it.receive(1)[0]
		if aws.ToString(m.Body) != body {
			t.Fatalf("size %d: body differs", size)
		}
		if len(m.MessageAttributes) != len(attrs) {
			t.Fatalf("size %d: expect %d attributes, got %v", size, len(attrs), m.MessageAttributes)
		}
		for name, want := range attrs {
			got := m.MessageAttributes[name]
			if aws.ToString(got.DataType) != aws.ToString(want.DataType) ||
				aws.ToString(got.StringValue) != aws.ToString(want.StringValue) ||
				!bytes.Equal(got.BinaryValue, want.BinaryValue) {
				t.Fatalf("size %d: attribute %s: expect %+v, got %+v", size, name, want, got)
			}
		}
		it.delete(m)
	}
}

func TestIntegWireFormat(t *testing.T) {
	cases := map[string]struct {
		attr string
	}{
		"default":          {sqsx.AttributeName},
		"legacy attribute": {sqsx.LegacyAttributeName},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			it := newInteg(t, false, nil, func(o *sqsx.Options) { o.AttributeName = tc.attr })
			body := text(300 << 10)
			it.send(body, nil)
			// Read the raw message with the plain SDK client.
			raw := testenv.ReceiveAll(t, it.env.SQS, &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(it.queue), MessageAttributeNames: []string{"All"}, VisibilityTimeout: 1,
			}, 1, 30*time.Second)[0]
			keys := it.keys()
			want := fmt.Sprintf(`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":%q,"s3Key":%q}]`, it.bucket, keys[0])
			if aws.ToString(raw.Body) != want {
				t.Fatalf("expect body %s, got %s", want, aws.ToString(raw.Body))
			}
			marker, ok := raw.MessageAttributes[tc.attr]
			if !ok || aws.ToString(marker.DataType) != "Number" || aws.ToString(marker.StringValue) != fmt.Sprint(len(body)) {
				t.Fatalf("expect %s=Number:%d, got %v", tc.attr, len(body), raw.MessageAttributes)
			}
			if len(raw.MessageAttributes) != 1 {
				t.Fatalf("expect only the marker attribute, got %v", raw.MessageAttributes)
			}
		})
	}
}

// TestIntegReadsPeerFormats puts messages on the queue as the Java (compact,
// legacy attribute) and Python (spaced, legacy class) clients write them.
func TestIntegReadsPeerFormats(t *testing.T) {
	it := newInteg(t, false, nil)
	ctx := context.Background()
	cases := []struct{ attr, bodyFmt string }{
		{sqsx.LegacyAttributeName, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"%s","s3Key":"%s"}]`},
		{sqsx.AttributeName, `["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "%s", "s3Key": "%s"}]`},
		{sqsx.AttributeName, `["com.amazon.sqs.javamessaging.MessageS3Pointer", {"s3Key": "%[2]s", "s3BucketName": "%[1]s"}]`},
	}
	want := map[string]string{}
	for i, tc := range cases {
		key := fmt.Sprintf("peer/%d-%s", i, payload.NewKey(""))
		body := text(270000 + i)
		if _, err := it.env.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(it.bucket), Key: aws.String(key), Body: strings.NewReader(body),
		}); err != nil {
			t.Fatal(err)
		}
		out, err := it.env.SQS.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl:    aws.String(it.queue),
			MessageBody: aws.String(fmt.Sprintf(tc.bodyFmt, it.bucket, key)),
			MessageAttributes: map[string]types.MessageAttributeValue{
				tc.attr: {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(len(body)))},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		want[aws.ToString(out.MessageId)] = body
	}
	// Receive without asking for any attribute: the client must ask for both.
	msgs := testenv.ReceiveAll(t, it.client, &sqs.ReceiveMessageInput{QueueUrl: aws.String(it.queue), VisibilityTimeout: 5}, len(cases), 30*time.Second)
	for _, m := range msgs {
		if aws.ToString(m.Body) != want[aws.ToString(m.MessageId)] {
			t.Fatalf("message %s: body not resolved: %.100s", aws.ToString(m.MessageId), aws.ToString(m.Body))
		}
		if m.MessageAttributes != nil {
			t.Fatalf("expect no attributes, got %v", m.MessageAttributes)
		}
		it.delete(m)
	}
	if keys := it.keys(); len(keys) != 0 {
		t.Fatalf("expect all payloads deleted, got %v", keys)
	}
}

func TestIntegFIFO(t *testing.T) {
	it := newInteg(t, true, map[string]string{"ContentBasedDeduplication": "true"})
	ctx := context.Background()
	big := text(300 << 10)
	send := func(body, group string, dedup *string) {
		if _, err := it.client.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(it.queue), MessageBody: aws.String(body),
			MessageGroupId: aws.String(group), MessageDeduplicationId: dedup,
		}); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
	}
	send(big, "g1", aws.String("d1"))
	send(big, "g1", aws.String("d1")) // same dedup id: dropped by SQS
	send(big+"2", "g1", nil)          // content-based
	send(big+"2", "g1", nil)          // same content: must be dropped too
	send("small", "g1", nil)
	// A FIFO group delivers its next message only once the previous one is
	// deleted, so receive and delete one at a time.
	var msgs []types.Message
	for range 3 {
		m := testenv.ReceiveAll(t, it.client, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(it.queue), VisibilityTimeout: 5,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		}, 1, 30*time.Second)[0]
		msgs = append(msgs, m)
		it.delete(m)
	}
	wantBodies := []string{big, big + "2", "small"}
	for i, m := range msgs {
		if aws.ToString(m.Body) != wantBodies[i] {
			t.Fatalf("message %d: expect body of %d bytes, got %d", i, len(wantBodies[i]), len(aws.ToString(m.Body)))
		}
		if m.Attributes["MessageGroupId"] != "g1" {
			t.Fatalf("message %d: expect group g1, got %v", i, m.Attributes)
		}
	}
	if m := msgs[0]; m.Attributes["MessageDeduplicationId"] != "d1" {
		t.Fatalf("expect dedup id d1, got %v", m.Attributes)
	}
	it.expectEmptyQueue()
	// Duplicates were never delivered; their payloads were uploaded but SQS
	// accepted the send, so they remain until a lifecycle rule expires them.
	if n := len(it.keys()); n != 2 {
		t.Fatalf("expect the 2 duplicate sends' payloads left, got %d objects", n)
	}
}

func TestIntegBatch(t *testing.T) {
	it := newInteg(t, false, nil)
	ctx := context.Background()
	var entries []types.SendMessageBatchRequestEntry
	bodies := map[string]string{}
	for i := range 10 {
		id := fmt.Sprint("e", i)
		bodies[id] = text(200<<10 + i)
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(bodies[id])})
	}
	out, err := it.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(it.queue), Entries: entries})
	if err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	if len(out.Successful) != 10 || len(out.Failed) != 0 {
		t.Fatalf("expect 10 successful, got %d successful, failed %s", len(out.Successful), failures(out.Failed))
	}
	if n := len(it.keys()); n != 5 {
		t.Fatalf("expect the 5 largest entries offloaded, got %d objects", n)
	}
	byMessageID := map[string]string{}
	for _, s := range out.Successful {
		byMessageID[aws.ToString(s.MessageId)] = bodies[aws.ToString(s.Id)]
	}
	msgs := it.receive(10)
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if aws.ToString(m.Body) != byMessageID[aws.ToString(m.MessageId)] {
			t.Fatalf("message %s: body differs", aws.ToString(m.MessageId))
		}
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
	}
	// Visibility of all ten, with rewritten handles, in one call.
	var vis []types.ChangeMessageVisibilityBatchRequestEntry
	for _, d := range del {
		vis = append(vis, types.ChangeMessageVisibilityBatchRequestEntry{Id: d.Id, ReceiptHandle: d.ReceiptHandle, VisibilityTimeout: 60})
	}
	vout, err := it.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(it.queue), Entries: vis})
	if err != nil || len(vout.Successful) != 10 {
		t.Fatalf("ChangeMessageVisibilityBatch: expect 10 successful, got %+v, %v", vout, err)
	}
	dout, err := it.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(it.queue), Entries: del})
	if err != nil || len(dout.Successful) != 10 {
		t.Fatalf("DeleteMessageBatch: expect 10 successful, got %+v, %v", dout, err)
	}
	if keys := it.keys(); len(keys) != 0 {
		t.Fatalf("expect all payloads deleted, got %v", keys)
	}
	it.expectEmptyQueue()
}

func TestIntegBatchPartialFailure(t *testing.T) {
	it := newInteg(t, false, nil)
	out, err := it.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(it.queue),
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("ok"), MessageBody: aws.String(text(300 << 10))},
			{Id: aws.String("reserved"), MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{
				sqsx.LegacyAttributeName: {DataType: aws.String("Number"), StringValue: aws.String("1")},
			}},
		},
	})
	if err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	if len(out.Successful) != 1 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != sqsx.CodeReservedAttribute {
		t.Fatalf("expect 1 successful and 1 %s failure, got %+v", sqsx.CodeReservedAttribute, out)
	}
	it.delete(it.receive(1)[0])
}

func TestIntegMixedReceive(t *testing.T) {
	it := newInteg(t, false, nil)
	want := map[string]bool{}
	for _, size := range []int{10, 300 << 10, 20, 500 << 10, 30} {
		body := text(size)
		want[body] = true
		it.send(body, nil)
	}
	msgs := it.receive(5)
	for _, m := range msgs {
		if !want[aws.ToString(m.Body)] {
			t.Fatalf("unexpected body of %d bytes", len(aws.ToString(m.Body)))
		}
		delete(want, aws.ToString(m.Body))
		it.delete(m)
	}
	if len(it.keys()) != 0 {
		t.Fatal("expect all payloads deleted")
	}
}

func TestIntegKeepPayloadsOnDelete(t *testing.T) {
	it := newInteg(t, false, nil, func(o *sqsx.Options) { o.KeepPayloadsOnDelete = true; o.KeyPrefix = "keep/" })
	it.send(text(300<<10), nil)
	it.delete(it.receive(1)[0])
	it.expectEmptyQueue()
	keys := it.keys()
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "keep/") {
		t.Fatalf("expect the payload kept under keep/, got %v", keys)
	}
}

func TestIntegPayloadNotFound(t *testing.T) {
	cases := map[string]sqsx.UnresolvedPolicy{
		"fail":   sqsx.UnresolvedFail,
		"delete": sqsx.UnresolvedDelete,
		"return": sqsx.UnresolvedReturn,
	}
	for name, policy := range cases {
		t.Run(name, func(t *testing.T) {
			it := newInteg(t, false, nil, func(o *sqsx.Options) { o.Unresolved = policy })
			ctx := context.Background()
			it.send(text(300<<10), nil)
			it.send("plain", nil)
			for _, k := range it.keys() {
				if _, err := it.env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(it.bucket), Key: aws.String(k)}); err != nil {
					t.Fatal(err)
				}
			}
			var got []types.Message
			var gotErr error
			deadline := time.Now().Add(30 * time.Second)
			for len(got) < 2 && time.Now().Before(deadline) {
				out, err := it.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
					QueueUrl: aws.String(it.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 2,
				})
				if err != nil {
					gotErr = err
				}
				if out != nil {
					got = append(got, out.Messages...)
				}
				if policy == sqsx.UnresolvedFail && gotErr != nil {
					break
				}
				if policy == sqsx.UnresolvedDelete && len(got) == 1 && aws.ToString(got[0].Body) == "plain" {
					break
				}
			}
			switch policy {
			case sqsx.UnresolvedFail:
				if !errors.Is(gotErr, sqsx.ErrPayloadNotFound) {
					t.Fatalf("expect ErrPayloadNotFound, got %v", gotErr)
				}
				var perr *sqsx.PayloadError
				if !errors.As(gotErr, &perr) || perr.Bucket != it.bucket || perr.Op != "GetObject" {
					t.Fatalf("expect a *PayloadError for GetObject in %s, got %v", it.bucket, gotErr)
				}
			case sqsx.UnresolvedDelete:
				if gotErr != nil || len(got) != 1 || aws.ToString(got[0].Body) != "plain" {
					t.Fatalf("expect only the plain message, got %d messages, %v", len(got), gotErr)
				}
				it.delete(got[0])
				it.expectNoMessages(15 * time.Second) // the unresolvable one was deleted
			case sqsx.UnresolvedReturn:
				var ue *sqsx.UnresolvedError
				if !errors.As(gotErr, &ue) || len(ue.Messages) != 1 || !errors.Is(gotErr, sqsx.ErrPayloadNotFound) {
					t.Fatalf("expect an *UnresolvedError for one message, got %v", gotErr)
				}
				i := slices.IndexFunc(got, func(m types.Message) bool { return aws.ToString(m.MessageId) == ue.Messages[0].MessageID })
				if i < 0 || !strings.HasPrefix(aws.ToString(got[i].Body), `["software.amazon.payloadoffloading.PayloadS3Pointer"`) {
					t.Fatalf("expect the unresolved message handed back with its pointer body, got %+v", got)
				}
				if _, ok := got[i].MessageAttributes[sqsx.AttributeName]; !ok {
					t.Fatalf("expect the unresolved message to keep its marker, got %v", got[i].MessageAttributes)
				}
			}
		})
	}
}

func TestIntegDisallowedBucket(t *testing.T) {
	it := newInteg(t, false, nil)
	it.send(text(300<<10), nil)
	other := it.env.Bucket(t)
	// Strict: the call fails.
	strict, err := sqsx.New(it.env.SQS, it.env.S3, func(o *sqsx.Options) { o.Bucket = other; o.Unresolved = sqsx.UnresolvedFail })
	if err != nil {
		t.Fatal(err)
	}
	var gotErr error
	for deadline := time.Now().Add(30 * time.Second); gotErr == nil && time.Now().Before(deadline); {
		_, gotErr = strict.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(it.queue), WaitTimeSeconds: 1, VisibilityTimeout: 1,
		})
	}
	if !errors.Is(gotErr, sqsx.ErrBucketNotAllowed) {
		t.Fatalf("expect ErrBucketNotAllowed, got %v", gotErr)
	}
	// Default: the message is left in the queue and reported.
	consumer, err := sqsx.New(it.env.SQS, it.env.S3, func(o *sqsx.Options) { o.Bucket = other })
	if err != nil {
		t.Fatal(err)
	}
	var us []sqsx.UnresolvedMessage
	for deadline := time.Now().Add(30 * time.Second); len(us) == 0 && time.Now().Before(deadline); {
		out, err := consumer.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(it.queue), WaitTimeSeconds: 1, VisibilityTimeout: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != 0 {
			t.Fatalf("expect no message handed out, got %d", len(out.Messages))
		}
		us = sqsx.GetUnresolvedMessages(out.ResultMetadata)
	}
	if len(us) != 1 || us[0].Code != sqsx.CodeBucketNotAllowed || us[0].Action != sqsx.UnresolvedLeft {
		t.Fatalf("expect the message left as %s, got %+v", sqsx.CodeBucketNotAllowed, us)
	}
	// The producer's own client (whose bucket it is) still reads it.
	it.delete(it.receive(1)[0])
}

func TestIntegVisibilityWithRewrittenHandle(t *testing.T) {
	it := newInteg(t, false, nil)
	body := text(300 << 10)
	it.send(body, nil)
	m := it.receive(1)[0]
	if _, err := it.client.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(it.queue), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
	}); err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}
	// Visible again at once, well before the 5 s timeout it was received with.
	start := time.Now()
	again := it.receive(1)[0]
	if aws.ToString(again.MessageId) != aws.ToString(m.MessageId) || aws.ToString(again.Body) != body {
		t.Fatal("expect the same message back")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("expect the message redelivered at once, took %v", d)
	}
	it.delete(again)
	if len(it.keys()) != 0 {
		t.Fatal("expect the payload deleted")
	}
}

func TestIntegOrphanCleanupOnSendFailure(t *testing.T) {
	it := newInteg(t, false, nil)
	missing := strings.TrimSuffix(it.queue, "/"+it.queue[strings.LastIndex(it.queue, "/")+1:]) + "/no-such-queue"
	_, err := it.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(missing), MessageBody: aws.String(text(300 << 10)),
	})
	var qdne *types.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Fatalf("expect *types.QueueDoesNotExist, got %v", err)
	}
	if keys := it.keys(); len(keys) != 0 {
		t.Fatalf("expect the upload deleted after the failed send, got %v", keys)
	}
	// The batch form too.
	_, err = it.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(missing),
		Entries:  []types.SendMessageBatchRequestEntry{{Id: aws.String("a"), MessageBody: aws.String(text(300 << 10))}},
	})
	if !errors.As(err, &qdne) {
		t.Fatalf("expect *types.QueueDoesNotExist, got %v", err)
	}
	if keys := it.keys(); len(keys) != 0 {
		t.Fatalf("expect the batch upload deleted after the failed send, got %v", keys)
	}
}

func TestIntegThresholdFromQueue(t *testing.T) {
	it := newInteg(t, false, map[string]string{"MaximumMessageSize": "1048576"},
		func(o *sqsx.Options) { o.ThresholdFromQueue = true })
	body := text(600 << 10)
	it.send(body, nil)
	if n := len(it.keys()); n != 0 {
		t.Fatalf("expect a 600 KiB message sent inline to a 1 MiB queue, got %d objects", n)
	}
	it.send(text(1<<20+1), nil)
	if n := len(it.keys()); n != 1 {
		t.Fatalf("expect a message over 1 MiB offloaded, got %d objects", n)
	}
	for _, m := range it.receive(2) {
		it.delete(m)
	}
}

func TestIntegPassThrough(t *testing.T) {
	it := newInteg(t, false, nil)
	out, err := it.client.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{
		QueueName: aws.String(it.queue[strings.LastIndex(it.queue, "/")+1:]),
	})
	if err != nil || aws.ToString(out.QueueUrl) == "" {
		t.Fatalf("GetQueueUrl through the wrapper: %v", err)
	}
}

func TestIntegStreamRoundTrip(t *testing.T) {
	it := newInteg(t, false, nil, func(o *sqsx.Options) { o.PartSize = payload.MinPartSize })
	ctx := context.Background()
	const size = 20<<20 + 123
	src := io.LimitReader(rand.NewChaCha8([32]byte{7}), size)
	sent := sha256.New()
	if _, err := it.client.SendMessageStream(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(it.queue)}, io.TeeReader(src, sent)); err != nil {
		t.Fatalf("SendMessageStream: %v", err)
	}
	msgs := testenv.ReceiveAll(t, receiverFunc(it.client.ReceiveMessageUnresolved), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(it.queue), VisibilityTimeout: 30,
	}, 1, 30*time.Second)
	m := msgs[0]
	if got := aws.ToString(m.MessageAttributes[sqsx.AttributeName].StringValue); got != fmt.Sprint(size) {
		t.Fatalf("expect the size attribute %d, got %q", size, got)
	}
	rc, n, err := it.client.OpenPayload(ctx, m)
	if err != nil {
		t.Fatalf("OpenPayload: %v", err)
	}
	got := sha256.New()
	if _, err := io.Copy(got, rc); err != nil {
		t.Fatalf("reading the payload: %v", err)
	}
	rc.Close()
	if n != size || !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatalf("expect %d identical bytes, got %d with a different hash", size, n)
	}
	it.delete(m)
	if keys := it.keys(); len(keys) != 0 {
		t.Fatalf("expect the payload deleted, got %v", keys)
	}
}

// receiverFunc adapts a receive method to testenv.Receiver.
type receiverFunc func(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)

func (f receiverFunc) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return f(ctx, in, optFns...)
}
