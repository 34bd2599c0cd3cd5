package sqsx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

func TestSendMessageStreamInlineWhenItFits(t *testing.T) {
	e := newTestEnv(t)
	body := strings.Repeat("x", DefaultThreshold)
	if _, err := e.client.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL)},
		iotest.OneByteReader(strings.NewReader(body))); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "SendMessage")
	if got := aws.ToString(sqsxtest.Params[*sqs.SendMessageInput](e.log)[0].MessageBody); got != body {
		t.Fatalf("expect the body sent inline, got %d bytes", len(got))
	}
}

func TestSendMessageStreamOffloads(t *testing.T) {
	e := newTestEnv(t)
	body := strings.Repeat("y", DefaultThreshold+1)
	attrs := map[string]types.MessageAttributeValue{"a": stringAttr("1")}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL), MessageAttributes: attrs}
	before := deepCopy(t, in)
	if _, err := e.client.SendMessageStream(context.Background(), in, iotest.HalfReader(strings.NewReader(body))); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	expectUnchanged(t, before, in)
	e.expectCalls(t, "PutObject", "SendMessage")
	sent := sqsxtest.Params[*sqs.SendMessageInput](e.log)[0]
	p, err := payload.DecodePointer(aws.ToString(sent.MessageBody))
	if err != nil {
		t.Fatalf("expect a pointer body, got %v", err)
	}
	if got, _ := e.s3.Object(p.Bucket, p.Key); string(got) != body {
		t.Fatalf("expect the stream stored, got %d bytes", len(got))
	}
	if got := aws.ToString(sent.MessageAttributes[AttributeName].StringValue); got != itoa(len(body)) {
		t.Fatalf("expect size %d, got %s", len(body), got)
	}
	if got := aws.ToString(sent.MessageAttributes["a"].StringValue); got != "1" {
		t.Fatalf("expect the caller's attribute kept, got %q", got)
	}
}

func TestSendMessageStreamMultipart(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.PartSize = payload.MinPartSize })
	body := bytes.Repeat([]byte("0123456789abcdef"), (payload.MinPartSize*2+100)/16)
	if _, err := e.client.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL)},
		bytes.NewReader(body)); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if got := e.log.Count("UploadPart"); got != 3 {
		t.Fatalf("expect 3 parts, got %d", got)
	}
	keys := e.s3.Keys()
	got, _ := e.s3.Object(testBucket, strings.TrimPrefix(keys[0], testBucket+"/"))
	if !bytes.Equal(got, body) {
		t.Fatal("expect the stored object to equal the stream")
	}
}

func TestSendMessageStreamInputErrors(t *testing.T) {
	cases := map[string]struct {
		in     *sqs.SendMessageInput
		body   io.Reader
		field  string
		target error
	}{
		"body in params": {&sqs.SendMessageInput{MessageBody: aws.String("x")}, strings.NewReader("x"), "MessageBody", nil},
		"nil reader":     {&sqs.SendMessageInput{}, nil, "body", ErrEmptyBody},
		"empty stream":   {&sqs.SendMessageInput{}, strings.NewReader(""), "MessageBody", ErrEmptyBody},
		"reserved attribute": {&sqs.SendMessageInput{MessageAttributes: map[string]types.MessageAttributeValue{LegacyAttributeName: numberAttr(1)}},
			strings.NewReader("x"), `MessageAttributes["SQSLargePayloadSize"]`, ErrReservedAttribute},
		"too many attributes to offload": {&sqs.SendMessageInput{MessageAttributes: nAttrs(10)},
			strings.NewReader(strings.Repeat("z", DefaultThreshold+1)), "MessageAttributes", ErrTooManyAttributes},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			tc.in.QueueUrl = aws.String(testQueueURL)
			_, err := e.client.SendMessageStream(context.Background(), tc.in, tc.body)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != tc.field || (tc.target != nil && !errors.Is(err, tc.target)) {
				t.Fatalf("expect an *InputError on %s wrapping %v, got %v", tc.field, tc.target, err)
			}
			e.expectObjects(t, 0)
		})
	}
}

func TestSendMessageStreamFailuresLeaveNothing(t *testing.T) {
	t.Run("reader fails", func(t *testing.T) {
		e := newTestEnv(t)
		boom := errors.New("disk gone")
		r := io.MultiReader(strings.NewReader(strings.Repeat("a", DefaultThreshold+10)), iotest.ErrReader(boom))
		_, err := e.client.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL)}, r)
		if !errors.Is(err, boom) {
			t.Fatalf("expect the reader's error, got %v", err)
		}
		e.expectObjects(t, 0)
		if e.log.Count("SendMessage") != 0 {
			t.Fatal("expect nothing sent")
		}
	})
	t.Run("SQS refuses", func(t *testing.T) {
		e := newTestEnv(t)
		boom := &smithy.GenericAPIError{Code: "InvalidParameterValue", Fault: smithy.FaultClient}
		e.sqs.SendMessageFn = func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error) { return nil, boom }
		_, err := e.client.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL)},
			strings.NewReader(strings.Repeat("a", DefaultThreshold+10)))
		if !errors.Is(err, boom) {
			t.Fatalf("expect the SQS error, got %v", err)
		}
		e.expectObjects(t, 0)
	})
	t.Run("SQS fails ambiguously", func(t *testing.T) {
		e := newTestEnv(t)
		boom := errors.New("connection reset")
		e.sqs.SendMessageFn = func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error) { return nil, boom }
		_, err := e.client.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL)},
			strings.NewReader(strings.Repeat("a", DefaultThreshold+10)))
		var ke *payload.KeptError
		if !errors.Is(err, boom) || !errors.As(err, &ke) || !ke.Ambiguous || len(ke.Pointers) != 1 {
			t.Fatalf("expect the SQS error in a KeptError naming the payload, got %v", err)
		}
		e.expectObjects(t, 1)
	})
}

func TestSendMessageStreamContentDedup(t *testing.T) {
	e := newTestEnv(t)
	e.sqs.SetAttributes(testFIFOURL, map[string]string{"ContentBasedDeduplication": "true"})
	body := strings.Repeat("f", DefaultThreshold+5)
	if _, err := e.client.SendMessageStream(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(testFIFOURL), MessageGroupId: aws.String("g"),
	}, strings.NewReader(body)); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	sum := sha256.Sum256([]byte(body))
	if got := aws.ToString(sqsxtest.Params[*sqs.SendMessageInput](e.log)[0].MessageDeduplicationId); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("expect the body's SHA-256 as dedup id, got %q", got)
	}
}

func TestReceiveMessageUnresolvedAndOpenPayload(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.Unresolved = UnresolvedReturn })
	big := strings.Repeat("b", 5000)
	bigID := e.enqueueOffloaded(testBucket, "big", big, AttributeName, javaPointer(testBucket, "big"), nil)
	sharedID := e.enqueueOffloaded(testBucket, "shared", "shared body", LegacyAttributeName, javaPointer(testBucket, "shared"), nil)
	e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("shared"),
		Body: strings.NewReader("shared body"), Metadata: map[string]string{payload.FanoutMetadataKey: "true"}})
	goneID := e.sqs.Enqueue(testQueueURL, javaPointer(testBucket, "gone"), map[string]types.MessageAttributeValue{AttributeName: numberAttr(3)})
	plainID := e.sqs.Enqueue(testQueueURL, "plain", nil)

	out, err := e.client.ReceiveMessageUnresolved(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(testQueueURL), MaxNumberOfMessages: 10})
	var ue *UnresolvedError
	if !errors.As(err, &ue) || len(ue.Messages) != 1 || ue.Messages[0].MessageID != goneID {
		t.Fatalf("expect the missing payload reported, got %v", err)
	}
	if got := e.log.Count("GetObject"); got != 3 {
		t.Fatalf("expect one ranged GetObject per offloaded message, got %d", got)
	}
	for _, in := range sqsxtest.Params[*s3.GetObjectInput](e.log) {
		if aws.ToString(in.Range) != "bytes=0-0" {
			t.Fatalf("expect only one-byte reads, got range %q", aws.ToString(in.Range))
		}
	}
	msgs := messagesByID(out.Messages)
	if m := msgs[bigID]; aws.ToString(m.Body) != javaPointer(testBucket, "big") || aws.ToString(m.MessageAttributes[AttributeName].StringValue) != "5000" {
		t.Fatalf("expect the pointer body and size attribute kept, got %q %v", aws.ToString(m.Body), m.MessageAttributes)
	}
	if !strings.Contains(aws.ToString(msgs[bigID].ReceiptHandle), payload.KeyMarker) {
		t.Fatal("expect the receipt handle to name the payload")
	}
	if strings.Contains(aws.ToString(msgs[sharedID].ReceiptHandle), payload.KeyMarker) {
		t.Fatal("expect a shared payload's handle left as SQS issued it")
	}
	for id, want := range map[string]string{bigID: big, sharedID: "shared body", plainID: "plain"} {
		rc, size, err := e.client.OpenPayload(context.Background(), msgs[id])
		if err != nil {
			t.Fatalf("OpenPayload %s: %v", id, err)
		}
		if err := iotest.TestReader(rc, []byte(want)); err != nil {
			t.Fatalf("OpenPayload %s: %v", id, err)
		}
		rc.Close()
		if size != int64(len(want)) {
			t.Fatalf("expect size %d, got %d", len(want), size)
		}
	}
	if _, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: msgs[bigID].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.s3.Object(testBucket, "big"); ok {
		t.Fatal("expect the payload deleted with its message")
	}
}

// TestReceiveMessageUnresolvedWithoutPayloadCheck: no S3 request at the
// receive; what needs none is still refused; the read finds a missing
// payload, and OpenMessagePayload makes the handle name the payload unless
// it is shared.
func TestReceiveMessageUnresolvedWithoutPayloadCheck(t *testing.T) {
	e := newTestEnv(t, func(o *Options) {
		o.Unresolved = UnresolvedReturn
		o.KeyPrefix = "p/"
		o.MaxStreamSize = 1 << 20
	})
	big := strings.Repeat("b", 5000)
	bigID := e.enqueueOffloaded(testBucket, "p/big", big, AttributeName, javaPointer(testBucket, "p/big"), nil)
	sharedID := e.enqueueOffloaded(testBucket, "p/shared", "shared body", LegacyAttributeName, javaPointer(testBucket, "p/shared"), nil)
	e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("p/shared"),
		Body: strings.NewReader("shared body"), Metadata: map[string]string{payload.FanoutMetadataKey: "true"}})
	goneID := e.sqs.Enqueue(testQueueURL, javaPointer(testBucket, "p/gone"), map[string]types.MessageAttributeValue{AttributeName: numberAttr(3)})
	outsideID := e.enqueueOffloaded(testBucket, "config", "secret", AttributeName, javaPointer(testBucket, "config"), nil)
	hugeID := e.sqs.Enqueue(testQueueURL, javaPointer(testBucket, "p/huge"), map[string]types.MessageAttributeValue{AttributeName: numberAttr(2 << 20)})
	e.log.Reset()

	out, err := e.client.ReceiveMessageUnresolved(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(testQueueURL), MaxNumberOfMessages: 10},
		WithoutPayloadCheck())
	var ue *UnresolvedError
	if !errors.As(err, &ue) {
		t.Fatalf("expect an *UnresolvedError, got %v", err)
	}
	codes := map[string]string{}
	for _, u := range ue.Messages {
		codes[u.MessageID] = u.Code
	}
	if diff := cmp.Diff(map[string]string{outsideID: CodeKeyNotAllowed, hugeID: CodePayloadTooLarge}, codes); diff != "" {
		t.Errorf("unresolved mismatch (-want +got):\n%s", diff)
	}
	e.expectCalls(t, "ReceiveMessage")
	msgs := messagesByID(out.Messages)
	for _, id := range []string{bigID, sharedID, goneID} {
		if h := aws.ToString(msgs[id].ReceiptHandle); h != e.originalHandle(t, id) {
			t.Errorf("expect the handle of %s as SQS issued it, got %q", id, h)
		}
	}

	for id, want := range map[string]string{bigID: big, sharedID: "shared body"} {
		m := msgs[id]
		rc, size, err := e.client.OpenMessagePayload(context.Background(), &m)
		if err != nil {
			t.Fatalf("OpenMessagePayload %s: %v", id, err)
		}
		if err := iotest.TestReader(rc, []byte(want)); err != nil {
			t.Fatalf("OpenMessagePayload %s: %v", id, err)
		}
		rc.Close()
		if size != int64(len(want)) {
			t.Errorf("expect size %d, got %d", len(want), size)
		}
		named := strings.Contains(aws.ToString(m.ReceiptHandle), payload.KeyMarker)
		if named != (id == bigID) {
			t.Errorf("expect the handle of %s to name the payload: %v, got %v", id, id == bigID, named)
		}
		if _, err := e.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(testQueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := e.s3.Object(testBucket, "p/big"); ok {
		t.Error("expect the payload deleted with its message")
	}
	if _, ok := e.s3.Object(testBucket, "p/shared"); !ok {
		t.Error("expect the shared payload kept")
	}

	m := msgs[goneID]
	if _, _, err := e.client.OpenMessagePayload(context.Background(), &m); UnresolvedCode(err) != CodePayloadNotFound {
		t.Errorf("expect PayloadNotFound at the read, got %v", err)
	}
	if h := aws.ToString(m.ReceiptHandle); h != aws.ToString(msgs[goneID].ReceiptHandle) {
		t.Errorf("expect the handle unchanged after a failed read, got %q", h)
	}
}

func TestPayloadPointer(t *testing.T) {
	ptr := javaPointer(testBucket, "k")
	cases := map[string]struct {
		m      types.Message
		ok     bool
		target error
	}{
		"offloaded": {types.Message{Body: aws.String(ptr), MessageAttributes: map[string]types.MessageAttributeValue{AttributeName: numberAttr(1)}}, true, nil},
		"plain":     {types.Message{Body: aws.String(ptr)}, false, nil},
		"invalid": {types.Message{Body: aws.String("nope"), MessageAttributes: map[string]types.MessageAttributeValue{LegacyAttributeName: numberAttr(1)}},
			false, ErrInvalidPointer},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, ok, err := PayloadPointer(tc.m)
			if ok != tc.ok || !errors.Is(err, tc.target) || (tc.target == nil && err != nil) {
				t.Fatalf("expect ok=%v err=%v, got %v %v %v", tc.ok, tc.target, p, ok, err)
			}
			if ok && (p != payload.Pointer{Bucket: testBucket, Key: "k"}) {
				t.Fatalf("expect the pointer, got %v", p)
			}
		})
	}
}
