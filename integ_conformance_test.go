package sqsx_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
)

// These tests need a server that behaves as SQS does where a lenient one
// would let them pass anyway: invalid and stale receipt handles, characters
// above U+FFFF, a receive that asks for some attributes. On a backend with a
// known deviation (testenv.Quirks, docs/conformance.md) they assert that
// deviation instead.

// received sends n offloaded messages and receives them, with rewritten
// receipt handles, each visible again after 30 s.
func (it *integ) received(n int) []types.Message {
	it.t.Helper()
	for range n {
		it.send(text(300<<10), nil)
	}
	msgs := testenv.ReceiveAll(it.t, it.client, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(it.queue), VisibilityTimeout: 30,
	}, n, 30*time.Second)
	for _, m := range msgs {
		if !strings.Contains(aws.ToString(m.ReceiptHandle), payload.KeyMarker) {
			it.t.Fatalf("expect a rewritten receipt handle, got %q", aws.ToString(m.ReceiptHandle))
		}
	}
	return msgs
}

// withOriginal returns the rewritten handle of m with its SQS part replaced.
func withOriginal(t *testing.T, m types.Message, original string) string {
	t.Helper()
	h, err := payload.ParseReceiptHandle(aws.ToString(m.ReceiptHandle))
	if err != nil {
		t.Fatal(err)
	}
	h.Original = original
	return h.String()
}

// keyOf returns the key of the payload m's rewritten handle names.
func keyOf(t *testing.T, m types.Message) string {
	t.Helper()
	h, err := payload.ParseReceiptHandle(aws.ToString(m.ReceiptHandle))
	if err != nil {
		t.Fatal(err)
	}
	return h.Pointer.Key
}

// expectKeys checks that the bucket holds exactly want.
func (it *integ) expectKeys(want ...string) {
	it.t.Helper()
	got := it.keys()
	if len(got) != len(want) {
		it.t.Fatalf("expect objects %v, got %v", want, got)
	}
	for _, k := range want {
		if !strings.Contains(strings.Join(got, "\n"), k) {
			it.t.Fatalf("expect objects %v, got %v", want, got)
		}
	}
}

// expectFailed checks that entry id, and only it, failed with code.
func expectFailed(t *testing.T, failed []types.BatchResultErrorEntry, id, code string) {
	t.Helper()
	if len(failed) != 1 || aws.ToString(failed[0].Id) != id || aws.ToString(failed[0].Code) != code || !failed[0].SenderFault {
		t.Fatalf("expect entry %s to fail with %s (sender's fault), got %s", id, code, failures(failed))
	}
}

// TestIntegInvalidReceiptHandles sends SQS rewritten handles whose SQS part
// it never issued: garbage, and a real handle of another queue. SQS answers
// ReceiptHandleIsInvalid (DeleteMessage, ChangeMessageVisibility), per entry
// in the batch forms, and the payload of a message SQS did not delete must
// stay.
func TestIntegInvalidReceiptHandles(t *testing.T) {
	bad := map[string]func(it *integ) string{
		"garbage": func(*integ) string { return "sqsx-not-a-receipt-handle" },
		"another queue's handle": func(it *integ) string {
			other := it.env.Queue(t, false, nil)
			if _, err := it.env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(other), MessageBody: aws.String("other")}); err != nil {
				t.Fatal(err)
			}
			m := testenv.ReceiveAll(t, it.env.SQS, &sqs.ReceiveMessageInput{QueueUrl: aws.String(other), VisibilityTimeout: 30}, 1, 30*time.Second)[0]
			return aws.ToString(m.ReceiptHandle)
		},
	}
	for name, original := range bad {
		t.Run(name, func(t *testing.T) {
			t.Run("DeleteMessage", func(t *testing.T) {
				it := newInteg(t, false, nil)
				m := it.received(1)[0]
				_, err := it.client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{
					QueueUrl: aws.String(it.queue), ReceiptHandle: aws.String(withOriginal(t, m, original(it))),
				})
				if it.env.Quirks.AcceptsInvalidReceiptHandles {
					// fauxqs reports a delete, so the payload goes with it.
					if err != nil {
						t.Fatalf("expect %s to accept the handle (known deviation), got %v", it.env.Backend, err)
					}
					it.expectKeys()
					return
				}
				var rhi *types.ReceiptHandleIsInvalid
				if !errors.As(err, &rhi) {
					t.Fatalf("expect *types.ReceiptHandleIsInvalid, got %v", err)
				}
				it.expectKeys(keyOf(t, m))
				it.delete(m) // the real handle still works
				it.expectKeys()
			})
			t.Run("DeleteMessageBatch", func(t *testing.T) {
				it := newInteg(t, false, nil)
				msgs := it.received(2)
				out, err := it.client.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{
					QueueUrl: aws.String(it.queue),
					Entries: []types.DeleteMessageBatchRequestEntry{
						{Id: aws.String("good"), ReceiptHandle: msgs[0].ReceiptHandle},
						{Id: aws.String("bad"), ReceiptHandle: aws.String(withOriginal(t, msgs[1], original(it)))},
					},
				})
				if err != nil {
					t.Fatalf("DeleteMessageBatch: %v", err)
				}
				if it.env.Quirks.AcceptsInvalidReceiptHandles {
					if len(out.Successful) != 2 || len(out.Failed) != 0 {
						t.Fatalf("expect %s to accept both handles (known deviation), got %d successful, failed %s",
							it.env.Backend, len(out.Successful), failures(out.Failed))
					}
					it.expectKeys()
					return
				}
				if len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "good" {
					t.Fatalf("expect only entry good deleted, got %+v", out.Successful)
				}
				expectFailed(t, out.Failed, "bad", "ReceiptHandleIsInvalid")
				it.expectKeys(keyOf(t, msgs[1]))
			})
			t.Run("ChangeMessageVisibility", func(t *testing.T) {
				it := newInteg(t, false, nil)
				m := it.received(1)[0]
				_, err := it.client.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
					QueueUrl: aws.String(it.queue), ReceiptHandle: aws.String(withOriginal(t, m, original(it))), VisibilityTimeout: 0,
				})
				var rhi *types.ReceiptHandleIsInvalid
				var mni *types.MessageNotInflight
				switch {
				case it.env.Quirks.AcceptsInvalidReceiptHandles:
					if !errors.As(err, &mni) {
						t.Fatalf("expect *types.MessageNotInflight from %s (known deviation), got %v", it.env.Backend, err)
					}
				case !errors.As(err, &rhi):
					t.Fatalf("expect *types.ReceiptHandleIsInvalid, got %v", err)
				}
				it.expectKeys(keyOf(t, m))
			})
			t.Run("ChangeMessageVisibilityBatch", func(t *testing.T) {
				it := newInteg(t, false, nil)
				msgs := it.received(2)
				out, err := it.client.ChangeMessageVisibilityBatch(context.Background(), &sqs.ChangeMessageVisibilityBatchInput{
					QueueUrl: aws.String(it.queue),
					Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
						{Id: aws.String("good"), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 0},
						{Id: aws.String("bad"), ReceiptHandle: aws.String(withOriginal(t, msgs[1], original(it))), VisibilityTimeout: 0},
					},
				})
				if err != nil {
					t.Fatalf("ChangeMessageVisibilityBatch: %v", err)
				}
				if len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "good" {
					t.Fatalf("expect only entry good changed, got %+v", out.Successful)
				}
				expectFailed(t, out.Failed, "bad", "ReceiptHandleIsInvalid")
				it.expectKeys(keyOf(t, msgs[0]), keyOf(t, msgs[1]))
				// The good one is visible again at once.
				again := it.receive(1)[0]
				if aws.ToString(again.MessageId) != aws.ToString(msgs[0].MessageId) {
					t.Fatalf("expect message %s visible again, got %s", aws.ToString(msgs[0].MessageId), aws.ToString(again.MessageId))
				}
			})
		})
	}
}

// TestIntegStaleReceiptHandles uses the handle of a message already
// deleted, as a retry of a delete whose answer was lost does. SQS's
// DeleteMessage "succeeds" for a handle that is no longer the latest, and
// deleting the payload again is no error; a visibility change fails.
func TestIntegStaleReceiptHandles(t *testing.T) {
	it := newInteg(t, false, nil)
	msgs := it.received(2)
	ctx := context.Background()
	for _, m := range msgs {
		it.delete(m)
	}
	it.expectKeys()

	if _, err := it.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(it.queue), ReceiptHandle: msgs[0].ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage again: expect success, got %v", err)
	}
	dout, err := it.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(it.queue),
		Entries:  []types.DeleteMessageBatchRequestEntry{{Id: aws.String("stale"), ReceiptHandle: msgs[1].ReceiptHandle}},
	})
	if err != nil || len(dout.Successful) != 1 {
		t.Fatalf("DeleteMessageBatch again: expect success, got %+v, %v", dout, err)
	}

	// SQS answers ReceiptHandleIsInvalid or MessageNotInflight, depending on
	// how long ago the message went.
	_, err = it.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(it.queue), ReceiptHandle: msgs[0].ReceiptHandle, VisibilityTimeout: 10,
	})
	var rhi *types.ReceiptHandleIsInvalid
	var mni *types.MessageNotInflight
	if !errors.As(err, &rhi) && !errors.As(err, &mni) {
		t.Fatalf("ChangeMessageVisibility of a deleted message: expect ReceiptHandleIsInvalid or MessageNotInflight, got %v", err)
	}
	vout, err := it.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(it.queue),
		Entries:  []types.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("stale"), ReceiptHandle: msgs[1].ReceiptHandle, VisibilityTimeout: 10}},
	})
	if err != nil || len(vout.Failed) != 1 || len(vout.Successful) != 0 {
		t.Fatalf("ChangeMessageVisibilityBatch of a deleted message: expect the entry failed, got %+v, %v", vout, err)
	}
	if code := aws.ToString(vout.Failed[0].Code); code != "ReceiptHandleIsInvalid" && !strings.HasSuffix(code, "MessageNotInflight") {
		t.Fatalf("expect ReceiptHandleIsInvalid or MessageNotInflight, got %s", failures(vout.Failed))
	}
}

// TestIntegSupplementaryCharactersAtThreshold sends bodies of 4-byte UTF-8
// characters: 262,144 bytes, which SQS takes inline, and 262,145, which
// goes to S3.
func TestIntegSupplementaryCharactersAtThreshold(t *testing.T) {
	for _, size := range []int{sqsx.DefaultThreshold, sqsx.DefaultThreshold + 1} {
		offloaded := size > sqsx.DefaultThreshold
		t.Run(map[bool]string{false: "inline", true: "offloaded"}[offloaded], func(t *testing.T) {
			it := newInteg(t, false, nil)
			body := strings.Repeat("🚀", size/4) + strings.Repeat("x", size%4)
			_, err := it.client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(it.queue), MessageBody: aws.String(body)})
			if !offloaded && it.env.Quirks.RefusesSupplementaryCharacters {
				var imc *types.InvalidMessageContents
				if !errors.As(err, &imc) {
					t.Fatalf("expect %s to refuse the body with *types.InvalidMessageContents (known deviation), got %v", it.env.Backend, err)
				}
				it.expectKeys()
				return
			}
			if err != nil {
				t.Fatalf("SendMessage (%d bytes): %v", size, err)
			}
			if n := len(it.keys()); n != map[bool]int{false: 0, true: 1}[offloaded] {
				t.Fatalf("expect offloaded=%v, got %d objects", offloaded, n)
			}
			m := it.receive(1)[0]
			if aws.ToString(m.Body) != body {
				t.Fatalf("expect the %d-byte body back, got %d bytes", size, len(aws.ToString(m.Body)))
			}
			it.delete(m)
			it.expectKeys()
		})
	}
}

// TestIntegSomeAttributes receives asking for two of a message's three
// attributes: SQS returns those two, with the MD5 of those two (which the
// Java SDK checks), and the consumer gets the body and those two.
func TestIntegSomeAttributes(t *testing.T) {
	attrs := map[string]types.MessageAttributeValue{
		"a": {DataType: aws.String("String"), StringValue: aws.String("ä ✓")},
		"b": {DataType: aws.String("Number"), StringValue: aws.String("7")},
		"c": {DataType: aws.String("Binary"), BinaryValue: []byte{0, 0xff}},
	}
	for _, size := range []int{100, 300 << 10} {
		t.Run(map[bool]string{false: "inline", true: "offloaded"}[size > sqsx.DefaultThreshold], func(t *testing.T) {
			it := newInteg(t, false, nil)
			body := text(size)
			it.send(body, attrs)
			rec := &recordingSQS{SQSAPI: it.env.SQS}
			c, err := sqsx.New(rec, it.env.S3, func(o *sqsx.Options) { o.Bucket = it.bucket })
			if err != nil {
				t.Fatal(err)
			}
			in := &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(it.queue), MessageAttributeNames: []string{"a", "c"}, VisibilityTimeout: 5,
			}
			if it.env.Quirks.ChecksumsAllAttributes {
				// The MD5 does not match the attributes returned: sqsx,
				// like the Java SDK, does not trust them, and leaves the
				// message in the queue.
				var us []sqsx.UnresolvedMessage
				for deadline := time.Now().Add(30 * time.Second); len(us) == 0 && time.Now().Before(deadline); {
					out, err := c.ReceiveMessage(context.Background(), in)
					if err != nil {
						t.Fatal(err)
					}
					if len(out.Messages) != 0 {
						t.Fatalf("expect no message handed out with a mismatched attribute MD5, got %d", len(out.Messages))
					}
					us = sqsx.GetUnresolvedMessages(out.ResultMetadata)
				}
				if len(us) != 1 || us[0].Code != sqsx.CodeAttributesChecksumMismatch || us[0].Action != sqsx.UnresolvedLeft {
					t.Fatalf("expect the message left as %s on %s (known deviation), got %+v", sqsx.CodeAttributesChecksumMismatch, it.env.Backend, us)
				}
				raw := rec.last(t, us[0].MessageID)
				all := maps.Clone(attrs)
				maps.Copy(all, raw.MessageAttributes) // and the marker, if any
				if got, want := aws.ToString(raw.MD5OfMessageAttributes), sqsx.AttributesMD5(all); got != want {
					t.Fatalf("expect %s's MD5 of all attributes, %s (known deviation), got %s", it.env.Backend, want, got)
				}
				return
			}
			m := testenv.ReceiveAll(t, c, in, 1, 30*time.Second)[0]
			if aws.ToString(m.Body) != body {
				t.Fatalf("expect the %d-byte body back, got %d bytes", size, len(aws.ToString(m.Body)))
			}
			if len(m.MessageAttributes) != 2 || aws.ToString(m.MessageAttributes["a"].StringValue) != "ä ✓" ||
				string(m.MessageAttributes["c"].BinaryValue) != "\x00\xff" {
				t.Fatalf("expect attributes a and c only, got %v", m.MessageAttributes)
			}
			raw := rec.last(t, aws.ToString(m.MessageId))
			got := aws.ToString(raw.MD5OfMessageAttributes)
			if want := sqsx.AttributesMD5(raw.MessageAttributes); got != want {
				t.Fatalf("expect the MD5 of the attributes returned, %s, got %s", want, got)
			}
			it.delete(m)
			it.expectKeys()
		})
	}
}

// TestIntegNoAttributesReturned receives a message with attributes asking
// for none of them: SQS returns no attributes and no MD5 of them, which
// sqsx relies on to tell an answer that lost its attributes on the way (an
// MD5 with nothing to match) from one that has none.
func TestIntegNoAttributesReturned(t *testing.T) {
	it := newInteg(t, false, nil)
	it.send("body", map[string]types.MessageAttributeValue{
		"a": {DataType: aws.String("String"), StringValue: aws.String("x")},
	})
	rec := &recordingSQS{SQSAPI: it.env.SQS}
	c, err := sqsx.New(rec, it.env.S3, func(o *sqsx.Options) { o.Bucket = it.bucket })
	if err != nil {
		t.Fatal(err)
	}
	in := &sqs.ReceiveMessageInput{QueueUrl: aws.String(it.queue), VisibilityTimeout: 5}
	m := testenv.ReceiveAll(t, c, in, 1, 30*time.Second)[0]
	if aws.ToString(m.Body) != "body" || len(m.MessageAttributes) != 0 {
		t.Fatalf("expect the body without attributes, got %q, %v", aws.ToString(m.Body), m.MessageAttributes)
	}
	if raw := rec.last(t, aws.ToString(m.MessageId)); raw.MD5OfMessageAttributes != nil {
		t.Fatalf("expect no MD5 of attributes with none returned, got %s", aws.ToString(raw.MD5OfMessageAttributes))
	}
	it.delete(m)
}

// recordingSQS records the messages SQS returns to ReceiveMessage.
type recordingSQS struct {
	sqsx.SQSAPI
	mu       sync.Mutex
	received []types.Message
}

func (r *recordingSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := r.SQSAPI.ReceiveMessage(ctx, in, optFns...)
	if err == nil {
		r.mu.Lock()
		for _, m := range out.Messages {
			// The client edits the messages it returns.
			m.MessageAttributes = maps.Clone(m.MessageAttributes)
			r.received = append(r.received, m)
		}
		r.mu.Unlock()
	}
	return out, err
}

// last returns the message with id as SQS last returned it.
func (r *recordingSQS) last(t *testing.T, id string) types.Message {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.received) - 1; i >= 0; i-- {
		if aws.ToString(r.received[i].MessageId) == id {
			return r.received[i]
		}
	}
	t.Fatalf("SQS returned no message %s", id)
	return types.Message{}
}
