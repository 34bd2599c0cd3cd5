package sqsx

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// TestWithOffloadOptionsApplyToOneCall: the per-call settings change the
// call they are given to, and only that one.
func TestWithOffloadOptionsApplyToOneCall(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.AllowedBuckets = []string{"other-bucket"} })
	ctx := context.Background()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL), MessageBody: aws.String("small")}
	sdkOption := func(o *sqs.Options) { o.RetryMaxAttempts = 2 }
	out, err := e.client.SendMessage(ctx, in, sdkOption, WithOffloadOptions(func(o *CallOptions) {
		o.AlwaysThroughS3, o.Bucket, o.KeyPrefix = true, "other-bucket", "call/"
	}))
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	md, ok := GetOffloadMetadata(out.ResultMetadata)
	if !ok || !md.Offloaded || md.Pointer.Bucket != "other-bucket" || !strings.HasPrefix(md.Pointer.Key, "call/") || !md.AlwaysThroughS3 {
		t.Fatalf("expect the body in other-bucket under call/, got %+v (ok %v)", md, ok)
	}
	if keys := e.s3.Keys(); len(keys) != 1 || !strings.HasPrefix(keys[0], "other-bucket/call/") {
		t.Fatalf("expect one object under other-bucket/call/, got %v", keys)
	}

	out, err = e.client.SendMessage(ctx, in, sdkOption)
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if md, _ := GetOffloadMetadata(out.ResultMetadata); md.Offloaded || md.Size != 5 || md.Threshold != DefaultThreshold {
		t.Fatalf("expect the next call sent as it is, got %+v", md)
	}
	e.expectObjects(t, 1)
}

func TestWithOffloadOptionsRefused(t *testing.T) {
	cases := map[string]func(*CallOptions){
		"bucket not allowed": func(o *CallOptions) { o.Bucket = "elsewhere" },
		"invalid bucket":     func(o *CallOptions) { o.Bucket = "Not_A_Bucket" },
		"invalid prefix":     func(o *CallOptions) { o.KeyPrefix = "../up" },
		"prefix not allowed": func(o *CallOptions) { o.KeyPrefix = "other/" },
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.KeyPrefix = "payloads/" })
			_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
				QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", 300000)),
			}, WithOffloadOptions(fn))
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != "WithOffloadOptions" {
				t.Fatalf("expect an InputError for WithOffloadOptions, got %v", err)
			}
			e.expectCalls(t)
		})
	}
}

// TestWithOffloadOptionsIgnoredBySDK: given to an operation the Client
// passes through, the option reaches the SDK, which it leaves alone.
func TestWithOffloadOptionsIgnoredBySDK(t *testing.T) {
	o := sqs.Options{Region: "eu-west-1"}
	WithOffloadOptions(func(o *CallOptions) { o.Bucket = "x" })(&o)
	if o.Region != "eu-west-1" || o.Logger != nil || len(o.APIOptions) != 0 {
		t.Fatalf("expect the SDK options unchanged, got %+v", o)
	}
}

func TestBatchOffloadMetadata(t *testing.T) {
	e := newTestEnv(t)
	large := strings.Repeat("x", 300000)
	out, err := e.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(testQueueURL),
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("big"), MessageBody: aws.String(large), MessageAttributes: map[string]types.MessageAttributeValue{"k": stringAttr("xyz")}},
			{Id: aws.String("small"), MessageBody: aws.String("hi")},
			{Id: aws.String("empty"), MessageBody: aws.String("")},
		},
	})
	if err != nil {
		t.Fatalf("SendMessageBatch: %v", err)
	}
	md := GetBatchOffloadMetadata(out.ResultMetadata)
	if len(md) != 2 {
		t.Fatalf("expect metadata for the 2 entries sent, got %+v", md)
	}
	if b := md["big"]; !b.Offloaded || b.Size != 300000 || b.AttributesSize != 10 || b.Pointer.Bucket != testBucket {
		t.Errorf("expect big offloaded, 300000 + 10 bytes, got %+v", b)
	}
	if s := md["small"]; s.Offloaded || s.Size != 2 || s.Threshold != DefaultThreshold {
		t.Errorf("expect small sent as it is, got %+v", s)
	}
	if _, ok := GetOffloadMetadata(out.ResultMetadata); ok {
		t.Errorf("expect no single-message metadata on a batch output")
	}
}

func TestSendMessageStreamMetadata(t *testing.T) {
	e := newTestEnv(t)
	body := strings.Repeat("s", 400000)
	out, err := e.client.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL)},
		strings.NewReader(body), WithOffloadOptions(func(o *CallOptions) { o.KeyPrefix = "streams/" }))
	if err != nil {
		t.Fatalf("SendMessageStream: %v", err)
	}
	md, ok := GetOffloadMetadata(out.ResultMetadata)
	if !ok || !md.Offloaded || md.Size != int64(len(body)) || !strings.HasPrefix(md.Pointer.Key, "streams/") {
		t.Fatalf("expect a %d-byte payload under streams/, got %+v", len(body), md)
	}
}
