package sqsx_test

// Regression tests for the reliability rules, each against the local
// servers, with internal/faultproxy between the library and the server where
// a fault is needed. docs/reliability.md maps each fault to its test.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/faultproxy"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/internal/testenv/faulty"
	"github.com/sqsx/sqsx/payload"
)

// faultyInteg is an integ whose client reaches S3 and SQS through fault
// proxies.
type faultyInteg struct {
	*integ
	s3p, sqsp *faultproxy.Proxy
}

func newFaulty(t *testing.T, queueAttrs map[string]string, optFns ...func(*sqsx.Options)) *faultyInteg {
	t.Helper()
	it := newInteg(t, false, queueAttrs)
	fe := faulty.Start(t, it.env, faulty.Options{SlowDelay: 2 * time.Second})
	f := &faultyInteg{integ: it, s3p: fe.S3, sqsp: fe.SQS}
	fns := append([]func(*sqsx.Options){func(o *sqsx.Options) { o.Bucket = it.bucket }}, optFns...)
	c, err := sqsx.New(fe.SQSClient, fe.S3Client, fns...)
	if err != nil {
		t.Fatal(err)
	}
	it.client = c
	return f
}

// queued returns the messages in the queue, read with the plain SDK client
// (not through the proxy) and made visible again.
func (f *faultyInteg) queued(n int) []types.Message {
	f.t.Helper()
	ms := testenv.ReceiveAll(f.t, f.env.SQS, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(f.queue), MessageAttributeNames: []string{"All"}, VisibilityTimeout: 1,
	}, n, 20*time.Second)
	return ms
}

// TestIntegAmbiguousSendKeepsPayload: SQS takes the message but its answer
// is lost on every attempt. The payload must stay (each queued copy points
// to it), the error must name it, and once the first copy is processed the
// duplicates are dropped by the default policy, not left for a person.
func TestIntegAmbiguousSendKeepsPayload(t *testing.T) {
	for _, mode := range []faultproxy.Mode{faultproxy.ErrorAfter, faultproxy.ResetAfter} {
		t.Run(mode.String(), func(t *testing.T) {
			f := newFaulty(t, map[string]string{"VisibilityTimeout": "2"})
			body := text(300 << 10)
			f.sqsp.Inject(faultproxy.SQS("SendMessage"), mode, 3) // every attempt of the SDK's retryer
			_, err := f.client.SendMessage(context.Background(), &sqs.SendMessageInput{
				QueueUrl: aws.String(f.queue), MessageBody: aws.String(body),
			})
			var ke *payload.KeptError
			if !errors.As(err, &ke) || !ke.Ambiguous || len(ke.Pointers) != 1 {
				t.Fatalf("expect a KeptError naming the payload, got %v", err)
			}
			if keys := f.keys(); len(keys) != 1 || keys[0] != ke.Pointers[0].Key {
				t.Fatalf("expect the payload %v kept, got %v", ke.Pointers[0], keys)
			}
			copies := f.queued(3)
			if len(copies) != 3 {
				t.Fatalf("expect 3 queued copies (one per attempt), got %d", len(copies))
			}
			// Process: the first copy resolves and its delete removes the
			// payload; the other two are duplicates whose payload is gone.
			delivered, dropped := 0, 0
			for deadline := time.Now().Add(30 * time.Second); delivered+dropped < 3 && time.Now().Before(deadline); {
				out, err := f.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
					QueueUrl: aws.String(f.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
				})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range out.Messages {
					if aws.ToString(m.Body) != body {
						t.Fatal("a delivered body differs from what was sent")
					}
					delivered++
					f.delete(m)
				}
				for _, u := range sqsx.GetUnresolvedMessages(out.ResultMetadata) {
					if u.Code != sqsx.CodePayloadNotFound || u.Action != sqsx.UnresolvedDeleted {
						t.Fatalf("expect a duplicate deleted as not found, got %s %s: %v", u.Code, u.Action, u.Err)
					}
					dropped++
				}
			}
			if delivered < 1 || delivered+dropped != 3 {
				t.Fatalf("expect the message delivered and its duplicates dropped (3 in all), got %d delivered, %d dropped", delivered, dropped)
			}
			f.expectEmptyQueue()
			if keys := f.keys(); len(keys) != 0 {
				t.Errorf("expect the payload gone after processing, got %v", keys)
			}
		})
	}
}

// TestIntegDefiniteRejectionDeletesPayload: a 4xx from SQS, or a 5xx before
// the request reached it, means no message: the upload goes.
func TestIntegDefiniteRejectionDeletesPayload(t *testing.T) {
	f := newFaulty(t, nil)
	f.sqsp.Inject(faultproxy.SQS("SendMessage"), faultproxy.ErrorBefore, 3)
	_, err := f.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(f.queue), MessageBody: aws.String(text(300 << 10)),
	})
	if err == nil {
		t.Fatal("expect an error")
	}
	// ErrorBefore answers 5xx without forwarding; the SDK cannot tell that
	// from a 5xx after, so the payload must be kept: correctness over
	// storage.
	var ke *payload.KeptError
	if !errors.As(err, &ke) || !ke.Ambiguous {
		t.Fatalf("expect a 5xx to count as ambiguous, got %v", err)
	}
	// A 4xx is definite: a queue that does not exist.
	missing := f.queue + "-missing"
	_, err = f.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(missing), MessageBody: aws.String(text(300 << 10)),
	})
	var kept *payload.KeptError
	if err == nil || errors.As(err, &kept) {
		t.Fatalf("expect a definite error that keeps nothing, got %v", err)
	}
	if keys := f.keys(); len(keys) != 1 {
		t.Errorf("expect only the ambiguous send's payload left, got %v", keys)
	}
}

// TestIntegAmbiguousBatchKeepsPayloads: the same for SendMessageBatch.
func TestIntegAmbiguousBatchKeepsPayloads(t *testing.T) {
	f := newFaulty(t, nil)
	f.sqsp.Inject(faultproxy.SQS("SendMessageBatch"), faultproxy.ErrorAfter, 3)
	var entries []types.SendMessageBatchRequestEntry
	for i := range 3 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(text(300 << 10))})
	}
	_, err := f.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(f.queue), Entries: entries})
	var ke *payload.KeptError
	if !errors.As(err, &ke) || !ke.Ambiguous || len(ke.Pointers) != 3 {
		t.Fatalf("expect a KeptError naming 3 payloads, got %v", err)
	}
	if keys := f.keys(); len(keys) != 3 {
		t.Fatalf("expect the 3 payloads kept, got %v", keys)
	}
	for _, m := range f.queued(9) {
		p, ok, err := sqsx.PayloadPointer(m)
		if err != nil || !ok {
			t.Fatalf("expect a pointer, got %v, %v", ok, err)
		}
		if _, err := f.env.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &p.Bucket, Key: &p.Key}); err != nil {
			t.Fatalf("a queued message points to a missing payload %v: %v", p, err)
		}
	}
}

// TestIntegPoisonMessageReachesDLQAlone: one message whose payload cannot be
// read, received with 9 good ones, goes to the dead-letter queue through the
// queue's own redrive policy, while its 9 batch-mates are processed once.
func TestIntegPoisonMessageReachesDLQAlone(t *testing.T) {
	env := testenv.Require(t)
	dlq := env.Queue(t, false, nil)
	attrs, err := env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(dlq), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, attrs.Attributes["QueueArn"])
	it := newInteg(t, false, map[string]string{"VisibilityTimeout": "1", "RedrivePolicy": redrive})
	// The poison: a pointer into the allowed bucket whose key is outside the
	// allowed prefix (a hostile sender's). The good ones are offloaded too.
	it.client = it.newClient(func(o *sqsx.Options) { o.KeyPrefix = "payloads/" })
	var entries []types.SendMessageBatchRequestEntry
	for i := range 9 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprintf("%d:%s", i, text(300<<10)))})
	}
	out, err := it.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(it.queue), Entries: entries})
	if err != nil || len(out.Failed) != 0 {
		t.Fatalf("send: %v %v", err, out)
	}
	if _, err := it.env.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &it.bucket, Key: aws.String("config/secret"), Body: strings.NewReader("secret")}); err != nil {
		t.Fatal(err)
	}
	poison, _ := payload.EncodePointer(payload.Pointer{Bucket: it.bucket, Key: "config/secret"})
	if _, err := it.env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(it.queue), MessageBody: aws.String(poison),
		MessageAttributes: map[string]types.MessageAttributeValue{sqsx.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String("6")}},
	}); err != nil {
		t.Fatal(err)
	}

	processed := map[string]int{}
	left := 0
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); {
		out, err := it.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(it.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if strings.Contains(aws.ToString(m.Body), "secret") {
				t.Fatal("the hostile pointer was followed")
			}
			id, _, _ := strings.Cut(aws.ToString(m.Body), ":")
			processed[id]++
			it.delete(m)
		}
		for _, u := range sqsx.GetUnresolvedMessages(out.ResultMetadata) {
			if u.Code != sqsx.CodeKeyNotAllowed || u.Action != sqsx.UnresolvedLeft {
				t.Fatalf("expect the poison left as %s, got %s %s", sqsx.CodeKeyNotAllowed, u.Code, u.Action)
			}
			left++
		}
		got, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), MaxNumberOfMessages: 10, VisibilityTimeout: 30})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) > 0 {
			if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != poison {
				t.Fatalf("expect only the poison in the DLQ, got %d messages", len(got.Messages))
			}
			if len(processed) != 9 {
				t.Fatalf("the poison reached the DLQ before its 9 batch-mates were processed: %v", processed)
			}
			for id, n := range processed {
				if n != 1 {
					t.Errorf("message %s processed %d times, want once", id, n)
				}
			}
			if left < 2 {
				t.Errorf("expect the poison reported at least twice (maxReceiveCount 2), got %d", left)
			}
			if _, err := it.env.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &it.bucket, Key: aws.String("config/secret")}); err != nil {
				t.Errorf("the object the poison named was touched: %v", err)
			}
			return
		}
	}
	t.Fatalf("the poison did not reach the DLQ; processed %v, reported %d times", processed, left)
}

// TestIntegS3FaultsArePerMessage: a 403 (what S3 answers a least-privilege
// reader for a missing key) on one payload leaves that message alone in the
// queue and returns the others.
func TestIntegS3FaultsArePerMessage(t *testing.T) {
	f := newFaulty(t, map[string]string{"VisibilityTimeout": "1"}, func(o *sqsx.Options) { o.Concurrency = 1 })
	for i := range 3 {
		f.send(fmt.Sprintf("%d:%s", i, text(300<<10)), nil)
	}
	f.s3p.Inject(faultproxy.S3("GetObject"), faultproxy.Forbidden, 1)
	var got []string
	var us []sqsx.UnresolvedMessage
	for deadline := time.Now().Add(20 * time.Second); len(got) < 3 && time.Now().Before(deadline); {
		out, err := f.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(f.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			t.Fatalf("a 403 on one payload failed the receive: %v", err)
		}
		us = append(us, sqsx.GetUnresolvedMessages(out.ResultMetadata)...)
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body)[:1])
			f.delete(m)
		}
	}
	if len(got) != 3 {
		t.Fatalf("expect all 3 processed in the end, got %v", got)
	}
	if len(us) != 1 || us[0].Code != sqsx.CodePayloadAccessDenied || us[0].Action != sqsx.UnresolvedLeft {
		t.Fatalf("expect one message left as %s, got %+v", sqsx.CodePayloadAccessDenied, us)
	}
}

// TestIntegDeleteRefusesHandleOutsidePrefix: a receipt handle crafted to name
// an object outside AllowedKeyPrefixes deletes nothing.
func TestIntegDeleteRefusesHandleOutsidePrefix(t *testing.T) {
	it := newInteg(t, false, nil, func(o *sqsx.Options) { o.KeyPrefix = "payloads/" })
	if _, err := it.env.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &it.bucket, Key: aws.String("config/keep"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	it.send("hello", nil)
	m := it.receive(1)[0]
	h := payload.ReceiptHandle{Original: aws.ToString(m.ReceiptHandle), Pointer: payload.Pointer{Bucket: it.bucket, Key: "config/keep"}}
	_, err := it.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(it.queue), ReceiptHandle: aws.String(h.String())})
	if !errors.Is(err, sqsx.ErrKeyNotAllowed) {
		t.Fatalf("expect ErrKeyNotAllowed, got %v", err)
	}
	if _, err := it.env.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &it.bucket, Key: aws.String("config/keep")}); err != nil {
		t.Fatalf("the object outside the prefix was deleted: %v", err)
	}
}

// TestIntegDefaultPayloadCap: a pointer to an object over the default
// in-memory cap is refused before its body is read: the receive does not
// allocate its size, and the message is left for the redrive policy.
func TestIntegDefaultPayloadCap(t *testing.T) {
	it := newInteg(t, false, nil)
	size := int64(payload.DefaultMaxPayloadSize + 1)
	if _, err := it.env.S3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &it.bucket, Key: aws.String("huge"), Body: strings.NewReader(strings.Repeat("x", int(size))), ContentLength: aws.Int64(size),
	}); err != nil {
		t.Fatal(err)
	}
	ptr, _ := payload.EncodePointer(payload.Pointer{Bucket: it.bucket, Key: "huge"})
	if _, err := it.env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(it.queue), MessageBody: aws.String(ptr),
		MessageAttributes: map[string]types.MessageAttributeValue{sqsx.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(size))}},
	}); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var us []sqsx.UnresolvedMessage
	for deadline := time.Now().Add(20 * time.Second); len(us) == 0 && time.Now().Before(deadline); {
		out, err := it.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(it.queue), WaitTimeSeconds: 1, VisibilityTimeout: 1})
		if err != nil {
			t.Fatal(err)
		}
		us = sqsx.GetUnresolvedMessages(out.ResultMetadata)
	}
	runtime.ReadMemStats(&after)
	if len(us) != 1 || us[0].Code != sqsx.CodePayloadTooLarge || us[0].Action != sqsx.UnresolvedLeft {
		t.Fatalf("expect the message left as too large, got %+v", us)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("refusing a %d-byte payload allocated %d bytes", size, alloc)
	}
}

// TestIntegAmbiguousUploadLeavesNoOrphan: an upload that S3 stored but whose
// answer was lost is deleted again (nothing points to it yet); a multipart
// upload whose CreateMultipartUpload answer was lost leaves no incomplete
// upload behind.
func TestIntegAmbiguousUploadLeavesNoOrphan(t *testing.T) {
	t.Run("PutObject", func(t *testing.T) {
		f := newFaulty(t, nil)
		f.s3p.Inject(faultproxy.S3("PutObject"), faultproxy.ErrorAfter, 3)
		_, err := f.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.queue), MessageBody: aws.String(text(300 << 10))})
		if err == nil {
			t.Fatal("expect the upload to fail")
		}
		if keys := f.keys(); len(keys) != 0 {
			t.Errorf("expect no orphan, got %v", keys)
		}
	})
	t.Run("multipart", func(t *testing.T) {
		f := newFaulty(t, nil)
		// The first CreateMultipartUpload lands, its answer is lost, the
		// SDK retries and gets a second upload id; the first is aborted.
		f.s3p.Inject(faultproxy.S3("CreateMultipartUpload"), faultproxy.ErrorAfter, 1)
		// And the completion lands without an answer on every attempt.
		f.s3p.Inject(faultproxy.S3("CompleteMultipartUpload"), faultproxy.ErrorAfter, 3)
		body := strings.NewReader(strings.Repeat("y", 12<<20))
		_, err := f.client.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.queue)}, body)
		if err == nil {
			t.Fatal("expect the upload to fail")
		}
		if keys := f.keys(); len(keys) != 0 {
			t.Errorf("expect no orphan object, got %v", keys)
		}
		ups, err := f.env.S3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &f.bucket})
		if err != nil {
			t.Fatal(err)
		}
		if len(ups.Uploads) != 0 {
			t.Errorf("expect no incomplete multipart upload, got %d", len(ups.Uploads))
		}
	})
}

// TestIntegLongKeyIsPerMessage: a pointer whose key is valid for S3 (1,024
// bytes) but refused by the server (versitygw: a 400, as a file name is
// limited to 255 bytes; AWS: a 404 for a key that does not exist) fails that
// message alone, under the default policy.
func TestIntegLongKeyIsPerMessage(t *testing.T) {
	it := newInteg(t, false, map[string]string{"VisibilityTimeout": "1"})
	it.send("good", nil)
	key := strings.Repeat("k", payload.MaxKeyLength)
	ptr, err := payload.EncodePointer(payload.Pointer{Bucket: it.bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := it.env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(it.queue), MessageBody: aws.String(ptr),
		MessageAttributes: map[string]types.MessageAttributeValue{sqsx.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String("4")}},
	}); err != nil {
		t.Fatal(err)
	}
	var good int
	var us []sqsx.UnresolvedMessage
	for deadline := time.Now().Add(20 * time.Second); (good == 0 || len(us) == 0) && time.Now().Before(deadline); {
		out, err := it.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(it.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			t.Fatalf("a refused key failed the receive: %v", err)
		}
		for _, m := range out.Messages {
			if aws.ToString(m.Body) != "good" {
				t.Fatalf("unexpected body %.40q", aws.ToString(m.Body))
			}
			good++
			it.delete(m)
		}
		us = append(us, sqsx.GetUnresolvedMessages(out.ResultMetadata)...)
	}
	if good != 1 || len(us) == 0 {
		t.Fatalf("expect the good message processed and the long key reported, got %d, %+v", good, us)
	}
	switch u := us[0]; {
	case u.Code == sqsx.CodePayloadRejected && u.Action == sqsx.UnresolvedLeft:
	case u.Code == sqsx.CodePayloadNotFound && u.Action == sqsx.UnresolvedDeleted:
	default:
		t.Fatalf("expect the long key rejected (left) or not found (deleted), got %s %s: %v", u.Code, u.Action, u.Err)
	}
	t.Logf("%s answered the 1,024-byte key with %s", it.env.Backend, us[0].Code)
}
