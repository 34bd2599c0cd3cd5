package snsx_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx/internal/faultproxy"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
)

// TestIntegAmbiguousPublishKeepsPayload: SNS takes the publish but its
// answer is lost on every attempt. The payload stays, named in the error, and
// every copy SNS delivered resolves.
func TestIntegAmbiguousPublishKeepsPayload(t *testing.T) {
	it := newSNSInteg(t, false)
	q, consumer := it.subscriber(false, true)
	p := faultproxy.Start(t, os.Getenv("AWS_ENDPOINT_URL_SNS"))
	pub, err := snsx.New(sns.NewFromConfig(it.env.Config, func(o *sns.Options) { o.BaseEndpoint = aws.String(p.URL()) }), it.env.S3,
		func(o *snsx.Options) { o.Bucket = it.bucket })
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("p", 300<<10)
	p.Inject(faultproxy.SNS("Publish"), faultproxy.ErrorAfter, 3)
	_, err = pub.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(it.topic), Message: aws.String(body)})
	var ke *payload.KeptError
	if !errors.As(err, &ke) || !ke.Ambiguous || len(ke.Pointers) != 1 {
		t.Fatalf("expect a KeptError naming the payload, got %v", err)
	}
	ms := testenv.ReceiveAll(t, consumer, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), VisibilityTimeout: 30}, 3, 20*time.Second)
	for _, m := range ms {
		if aws.ToString(m.Body) != body {
			t.Fatal("a delivered copy does not carry the payload")
		}
	}
}
