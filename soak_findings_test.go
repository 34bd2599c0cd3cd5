package sqsx

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sqsx/sqsx/payload"
)

// These tests pin down, deterministically, what TestIntegSoak found through
// its fault proxies.

// pointerLog is an slog.Handler that keeps the pointers named by the
// "payloads" attribute of each record.
type pointerLog struct {
	mu       *sync.Mutex
	pointers *[]payload.Pointer
}

func (h pointerLog) Enabled(context.Context, slog.Level) bool { return true }

func (h pointerLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		if ps, ok := a.Value.Any().([]payload.Pointer); ok && a.Key == "payloads" {
			*h.pointers = append(*h.pointers, ps...)
		}
		return true
	})
	return nil
}

func (h pointerLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h pointerLog) WithGroup(string) slog.Handler      { return h }

// An answer to DeleteMessageBatch that names an entry neither Successful nor
// Failed (a corrupted answer: the SDK does not check the Ids) leaves that
// entry's message deleted or not, unknown. Its payload must then be either
// deleted or reported (a *payload.KeptError, a *PayloadError, a Failed entry
// or the "payloads" of a log record), like any other payload a call leaves.
// TestIntegSoak saw such an answer from a BitFlip: the message was gone and
// its payload was left in S3, reported nowhere.
func TestDeleteMessageBatchUnansweredEntryReportsPayload(t *testing.T) {
	var mu sync.Mutex
	var logged []payload.Pointer
	e := newTestEnv(t, func(o *Options) {
		o.AlwaysThroughS3 = true
		o.Logger = slog.New(pointerLog{mu: &mu, pointers: &logged})
	})
	got := e.sendAndReceive(t, "first", "second")
	e.sqs.DeleteMessageBatchFn = func(in *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
		// Entry "a" became "b" on the way back.
		return &sqs.DeleteMessageBatchOutput{Successful: []types.DeleteMessageBatchResultEntry{{Id: aws.String("b")}, {Id: aws.String("b")}}}, nil
	}
	out, err := e.client.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(testQueueURL),
		Entries: []types.DeleteMessageBatchRequestEntry{
			{Id: aws.String("a"), ReceiptHandle: got[0].msg.ReceiptHandle},
			{Id: aws.String("b"), ReceiptHandle: got[1].msg.ReceiptHandle},
		},
	})
	p := got[0].pointer
	if _, ok := e.s3.Object(p.Bucket, p.Key); !ok {
		return // deleted: nothing left to report
	}
	reported := slices.Contains(payload.KeptPointers(err), p) || slices.Contains(logged, p)
	var pe *PayloadError
	if errors.As(err, &pe) && pe.Key == p.Key {
		reported = true
	}
	if out != nil && slices.ContainsFunc(out.Failed, func(f types.BatchResultErrorEntry) bool { return aws.ToString(f.Id) == "a" }) {
		reported = true
	}
	if !reported {
		t.Errorf("expect the payload %v of the unanswered entry deleted or reported, got it left in S3 and err %v, Failed %v", p, err, out.Failed)
	}
}

// A GetObject that S3 answers 404 is a missing payload whatever the error
// body says: when the body cannot be parsed (TestIntegSoak: a BitFlip in it;
// in the field: an HTML 404 from a proxy), the SDK's error has the status
// but no error code. The message must be handled as CodePayloadNotFound
// (deleted under UnresolvedIsolate, as the duplicate of one processed), not
// as CodePayloadRejected, which UnresolvedIsolate leaves in the queue for
// ever.
func TestReceive404WithUnparseableBodyIsNotFound(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.AlwaysThroughS3 = true })
	if _, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageBody: aws.String("body"),
	}); err != nil {
		t.Fatal(err)
	}
	e.s3.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		return nil, &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusNotFound, Header: http.Header{}}},
				Err:      errors.New("error while deserializing xml error response : XML syntax error on line 2: invalid UTF-8"),
			},
			RequestID: "req",
		}}
	}
	out, err := e.client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(testQueueURL)})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	us := GetUnresolvedMessages(out.ResultMetadata)
	if len(us) != 1 {
		t.Fatalf("expect 1 unresolved message, got %d", len(us))
	}
	if us[0].Code != CodePayloadNotFound || us[0].Action != UnresolvedDeleted {
		t.Errorf("expect %s, %v, got %s, %v (%v)", CodePayloadNotFound, UnresolvedDeleted, us[0].Code, us[0].Action, us[0].Err)
	}
}
