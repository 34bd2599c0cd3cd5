package snsx_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
)

// TestPublishStreamCanceledAfterUpload: as Publish, a streamed publish cut
// off while SNS is called keeps its payload and names it.
func TestPublishStreamCanceledAfterUpload(t *testing.T) {
	e := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.sns.PublishFn = func(*sns.PublishInput) (*sns.PublishOutput, error) {
		cancel()
		return nil, context.Canceled
	}
	_, err := e.client.PublishStream(ctx, &sns.PublishInput{TopicArn: aws.String(testTopic)}, strings.NewReader(strings.Repeat("x", 262145)))
	var ke *payload.KeptError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ke) || !ke.Ambiguous || len(ke.Pointers) != 1 {
		t.Fatalf("expect a KeptError naming the payload, got %v", err)
	}
	e.expectCalls(t, "PutObject", "Publish")
	e.expectObjects(t, 1)
}

func TestPublishStreamInput(t *testing.T) {
	cases := map[string]struct {
		in    *sns.PublishInput
		body  string
		field string
	}{
		"message set":        {in: &sns.PublishInput{Message: aws.String("x")}, body: "y", field: "Message"},
		"empty body":         {in: &sns.PublishInput{}, body: "", field: "Message"},
		"reserved attribute": {in: &sns.PublishInput{MessageAttributes: map[string]snstypes.MessageAttributeValue{payload.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String("1")}}}, body: "y", field: `MessageAttributes["ExtendedPayloadSize"]`},
		"json too large":     {in: &sns.PublishInput{MessageStructure: aws.String("json")}, body: strings.Repeat("j", 262145), field: "MessageStructure"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			tc.in.TopicArn = aws.String(testTopic)
			_, err := e.client.PublishStream(context.Background(), tc.in, strings.NewReader(tc.body))
			var ie *payload.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Fatalf("expect an InputError for %s, got %v", tc.field, err)
			}
			e.expectCalls(t)
		})
	}
}

func TestPublishStreamSmallBodyIsPublished(t *testing.T) {
	e := newTestEnv(t)
	out, err := e.client.PublishStream(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic)}, strings.NewReader("hello"),
		snsx.WithOffloadOptions(func(o *snsx.CallOptions) { o.KeyPrefix = "p/" }))
	if err != nil {
		t.Fatalf("PublishStream: %v", err)
	}
	if md, ok := snsx.GetOffloadMetadata(out.ResultMetadata); !ok || md.Offloaded || md.Size != 5 {
		t.Fatalf("expect a 5-byte message published as it is, got %+v", md)
	}
	e.expectCalls(t, "Publish")
}
