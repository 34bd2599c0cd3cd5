package sqsx_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
)

// TestIntegWithOffloadOptions: the per-call option rides in the SDK's
// optFns slot beside the SDK's own options; the SDK call succeeds, the
// settings apply to that call only, and an *sqs.Client given the option
// ignores it.
func TestIntegWithOffloadOptions(t *testing.T) {
	it := newInteg(t, false, nil)
	ctx := context.Background()
	perCall := sqsx.WithOffloadOptions(func(o *sqsx.CallOptions) {
		o.AlwaysThroughS3, o.KeyPrefix = true, "per-call/"
	})
	sdkOption := func(o *sqs.Options) { o.RetryMaxAttempts = 2 }
	in := &sqs.SendMessageInput{QueueUrl: aws.String(it.queue), MessageBody: aws.String("small body")}

	if _, err := it.env.SQS.SendMessage(ctx, in, perCall, sdkOption); err != nil {
		t.Fatalf("sqs.Client.SendMessage with the option: %v", err)
	}
	out, err := it.client.SendMessage(ctx, in, perCall, sdkOption)
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	md, _ := sqsx.GetOffloadMetadata(out.ResultMetadata)
	if !md.Offloaded || !strings.HasPrefix(md.Pointer.Key, "per-call/") {
		t.Fatalf("expect the body under per-call/, got %+v", md)
	}
	out, err = it.client.SendMessage(ctx, in, sdkOption)
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	if md, _ := sqsx.GetOffloadMetadata(out.ResultMetadata); md.Offloaded {
		t.Fatalf("expect the next call to send the body in SQS, got %+v", md)
	}
	if keys := it.keys(); len(keys) != 1 || !strings.HasPrefix(keys[0], "per-call/") {
		t.Fatalf("expect one payload, under per-call/, got %v", keys)
	}
	for _, m := range it.receive(3) {
		if aws.ToString(m.Body) != "small body" {
			t.Fatalf("expect every copy to read %q, got %q", "small body", aws.ToString(m.Body))
		}
	}
}
