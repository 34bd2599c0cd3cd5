package sqsxtest_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx/sqsxtest"
)

const queueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/q"

func strAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func TestSQSReceiveAttributeNames(t *testing.T) {
	attrs := map[string]types.MessageAttributeValue{"a": strAttr("1"), "foo.x": strAttr("2"), "foox": strAttr("3")}
	cases := map[string]struct {
		names []string
		want  []string
	}{
		"none":     {nil, nil},
		"All":      {[]string{"All"}, []string{"a", "foo.x", "foox"}},
		".*":       {[]string{".*"}, []string{"a", "foo.x", "foox"}},
		"explicit": {[]string{"a", "missing"}, []string{"a"}},
		"prefix":   {[]string{"foo.*"}, []string{"foo.x"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := sqsxtest.NewSQS(nil)
			f.Enqueue(queueURL, "body", attrs)
			out, err := f.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MessageAttributeNames: tc.names})
			if err != nil || len(out.Messages) != 1 {
				t.Fatalf("expect 1 message, got %v, %v", out, err)
			}
			var got []string
			for _, n := range []string{"a", "foo.x", "foox"} {
				if _, ok := out.Messages[0].MessageAttributes[n]; ok {
					got = append(got, n)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("attributes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSQSVisibilityAndHandles(t *testing.T) {
	now := time.Unix(1000, 0)
	f := sqsxtest.NewSQS(nil)
	f.Now = func() time.Time { return now }
	f.Enqueue(queueURL, "m", nil)
	recv := func() []types.Message {
		out, err := f.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	first := recv()
	if len(first) != 1 || len(recv()) != 0 {
		t.Fatalf("expect the message hidden after a receive")
	}
	now = now.Add(31 * time.Second)
	second := recv()
	if len(second) != 1 || *second[0].ReceiptHandle == *first[0].ReceiptHandle {
		t.Fatalf("expect the message again with a fresh handle")
	}
	if _, err := f.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(queueURL), ReceiptHandle: second[0].ReceiptHandle, VisibilityTimeout: 0,
	}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	third := recv()
	if len(third) != 1 {
		t.Fatalf("expect the message visible at once")
	}
	_, err := f.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String("nope")})
	var rhi *types.ReceiptHandleIsInvalid
	if !errors.As(err, &rhi) {
		t.Errorf("expect ReceiptHandleIsInvalid, got %v", err)
	}
	// Any handle issued for the message deletes it.
	if _, err := f.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: first[0].ReceiptHandle}); err != nil {
		t.Errorf("expect no error, got %v", err)
	}
	if f.Len(queueURL) != 0 {
		t.Errorf("expect the queue empty")
	}
	if diff := cmp.Diff([]string{"ReceiveMessage", "ReceiveMessage", "ReceiveMessage", "ChangeMessageVisibility", "ReceiveMessage", "DeleteMessage", "DeleteMessage"}, f.Log.Calls()); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
}

func TestSQSBatchShapeAndSize(t *testing.T) {
	big := strings.Repeat("x", 200000)
	cases := map[string]struct {
		entries []types.SendMessageBatchRequestEntry
		target  any
	}{
		"empty":    {nil, new(*types.EmptyBatchRequest)},
		"too many": {make([]types.SendMessageBatchRequestEntry, 11), new(*types.TooManyEntriesInBatchRequest)},
		"dup ids":  {[]types.SendMessageBatchRequestEntry{{Id: aws.String("a"), MessageBody: aws.String("x")}, {Id: aws.String("a"), MessageBody: aws.String("y")}}, new(*types.BatchEntryIdsNotDistinct)},
		"too large": {func() (es []types.SendMessageBatchRequestEntry) {
			for i := range 6 {
				es = append(es, types.SendMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), MessageBody: aws.String(big)})
			}
			return
		}(), new(*types.BatchRequestTooLong)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := sqsxtest.NewSQS(nil)
			_, err := f.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: tc.entries})
			if !errors.As(err, tc.target) {
				t.Errorf("expect %T, got %v", tc.target, err)
			}
		})
	}
}

func TestSQSMessageSizeAndFIFO(t *testing.T) {
	f := sqsxtest.NewSQS(nil)
	_, err := f.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(strings.Repeat("x", sqsxtest.DefaultMaximumMessageSize+1))})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Errorf("expect InvalidParameterValue for a message above MaximumMessageSize, got %v", err)
	}
	fifo := queueURL + ".fifo"
	f.SetAttributes(fifo, map[string]string{"ContentBasedDeduplication": "true"})
	var ids []string
	for range 2 {
		out, err := f.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(fifo), MessageBody: aws.String("same"), MessageGroupId: aws.String("g")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *out.MessageId)
	}
	if ids[0] != ids[1] || f.Len(fifo) != 1 {
		t.Errorf("expect the second send deduplicated")
	}
	attrs, err := f.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(fifo), AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil || attrs.Attributes["FifoQueue"] != "true" || attrs.Attributes["ApproximateNumberOfMessages"] != "1" {
		t.Errorf("expect FIFO attributes, got %v, %v", attrs, err)
	}
}

func TestS3(t *testing.T) {
	ctx := context.Background()
	f := sqsxtest.NewS3(nil)
	if _, err := f.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("hello"), ContentLength: aws.Int64(5)}); err != nil {
		t.Fatal(err)
	}
	out, err := f.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	if string(body) != "hello" || aws.ToInt64(out.ContentLength) != 5 {
		t.Errorf("expect hello with ContentLength 5, got %q, %v", body, aws.ToInt64(out.ContentLength))
	}
	_, err = f.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("missing")})
	var nsk *s3types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("expect NoSuchKey, got %v", err)
	}
	if _, err := f.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k2"), Body: strings.NewReader("hi"), ContentLength: aws.Int64(5)}); err == nil {
		t.Errorf("expect an error for a short body")
	}
	f.SetObject("b", "k3", []byte("x"))
	f.DeleteErrors = map[string]string{"k3": "AccessDenied"}
	dout, err := f.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("b"), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("k")}, {Key: aws.String("k3")}}}})
	if err != nil || len(dout.Errors) != 1 || len(dout.Deleted) != 1 {
		t.Errorf("expect 1 deleted and 1 error, got %+v, %v", dout, err)
	}
	if diff := cmp.Diff([]string{"b/k3"}, f.Keys()); diff != "" {
		t.Errorf("keys mismatch (-want +got):\n%s", diff)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.DeleteObject(cctx, &s3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String("k3")}); !errors.Is(err, context.Canceled) {
		t.Errorf("expect context.Canceled, got %v", err)
	}
	if got := f.Log.Count("DeleteObject"); got != 1 {
		t.Errorf("expect the cancelled call recorded, got %v", got)
	}
}

func TestSharedLogAndOverrides(t *testing.T) {
	sq, s3f := sqsxtest.New()
	s3f.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) { return nil, nil }
	sq.SendMessageFn = func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error) { return nil, errors.New("boom") }
	ctx := context.Background()
	s3f.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("k"), Body: strings.NewReader("x")}, func(o *s3.Options) { o.Region = "r" })
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{}); err == nil || err.Error() != "boom" {
		t.Errorf("expect the override's error as is, got %v", err)
	}
	if diff := cmp.Diff([]string{"PutObject", "SendMessage"}, sq.Log.Calls()); diff != "" {
		t.Errorf("calls mismatch (-want +got):\n%s", diff)
	}
	if s3f.Len() != 1 {
		t.Errorf("expect a nil, nil override to fall through to storing")
	}
	if rec := s3f.Log.Records()[0]; rec.OptFns != 1 || rec.Options.(s3.Options).Region != "r" {
		t.Errorf("expect the optFns recorded, got %+v", rec)
	}
	if got := sqsxtest.Params[*sqs.SendMessageInput](sq.Log); len(got) != 1 {
		t.Errorf("expect 1 SendMessage input, got %v", len(got))
	}
	sq.Log.Reset()
	if len(s3f.Log.Calls()) != 0 {
		t.Errorf("expect the shared log reset")
	}
}
