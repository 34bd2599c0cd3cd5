// Package testenv connects tests to the local S3 and SQS/SNS servers that
// scripts/servers.sh starts, through the standard AWS_* environment
// variables. When they are not set a test is skipped, except under CI=true,
// where it fails: in CI the integration tests must run.
package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Clients holds SDK clients configured for the local servers.
type Clients struct {
	Config aws.Config
	S3     *s3.Client
	SQS    *sqs.Client
	SNS    *sns.Client
}

// Require returns clients for the local servers, or skips t (fails it when
// CI=true) if the environment does not name them.
func Require(t testing.TB) *Clients {
	t.Helper()
	var missing []string
	for _, v := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SNS"} {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("local servers not configured (%s unset); run scripts/test.sh, or scripts/servers.sh start and source .servers/env",
			strings.Join(missing, ", "))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("loading AWS config: %v", err)
	}
	return &Clients{
		Config: cfg,
		S3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		SQS:    sqs.NewFromConfig(cfg),
		SNS:    sns.NewFromConfig(cfg),
	}
}

var seq atomic.Int64

// Name returns a name unique within this test run, usable for buckets and
// queues: lowercase letters, digits and '-'.
func Name(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e9, seq.Add(1))
}

// Bucket creates a new bucket and removes it, with its objects, when t ends.
func (c *Clients) Bucket(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	name := Name("sqsx")
	if _, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	t.Cleanup(func() {
		for _, k := range c.Keys(t, name) {
			c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String(k)})
		}
		c.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	})
	return name
}

// Keys lists every key in bucket.
func (c *Clients) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("ListObjectsV2 %s: %v", bucket, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// Queue creates a queue and deletes it when t ends. A FIFO queue gets the
// ".fifo" suffix and FifoQueue=true; attrs add or override attributes.
func (c *Clients) Queue(t testing.TB, fifo bool, attrs map[string]string) string {
	t.Helper()
	name := Name("sqsx")
	all := map[string]string{"VisibilityTimeout": "30"}
	if fifo {
		name += ".fifo"
		all["FifoQueue"] = "true"
	}
	for k, v := range attrs {
		all[k] = v
	}
	out, err := c.SQS.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: all})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() { c.SQS.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}) })
	return url
}

// Receiver is what ReceiveAll needs: *sqs.Client and *sqsx.Client both have it.
type Receiver interface {
	ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
}

// ReceiveAll receives from queueURL until it has n messages or the deadline
// passes. Local servers sometimes drop a response the SDK then retries, and
// the messages of the dropped response reappear only after their visibility
// timeout, so one receive is not assumed to return everything.
func ReceiveAll(t testing.TB, r Receiver, in *sqs.ReceiveMessageInput, n int, deadline time.Duration) []types.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	var got []types.Message
	for len(got) < n {
		req := *in
		req.MaxNumberOfMessages = int32(min(10, n-len(got)))
		if req.WaitTimeSeconds == 0 {
			req.WaitTimeSeconds = 1
		}
		out, err := r.ReceiveMessage(ctx, &req)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			t.Fatalf("ReceiveMessage: %v", err)
		}
		got = append(got, out.Messages...)
	}
	if len(got) < n {
		t.Fatalf("received %d messages within %v, want %d", len(got), deadline, n)
	}
	return got
}

// Topic creates an SNS topic (FIFO with fifo) and deletes it when t ends.
func (c *Clients) Topic(t testing.TB, fifo bool) string {
	t.Helper()
	name := Name("sqsx")
	attrs := map[string]string{}
	if fifo {
		name += ".fifo"
		attrs["FifoTopic"] = "true"
		attrs["ContentBasedDeduplication"] = "false"
	}
	out, err := c.SNS.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateTopic %s: %v", name, err)
	}
	arn := aws.ToString(out.TopicArn)
	t.Cleanup(func() { c.SNS.DeleteTopic(context.Background(), &sns.DeleteTopicInput{TopicArn: aws.String(arn)}) })
	return arn
}

// Subscribe subscribes the queue to the topic, with raw message delivery if
// raw is set.
func (c *Clients) Subscribe(t testing.TB, topicARN, queueURL string, raw bool) {
	t.Helper()
	ctx := context.Background()
	qa, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes QueueArn: %v", err)
	}
	if _, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:   aws.String(topicARN),
		Protocol:   aws.String("sqs"),
		Endpoint:   aws.String(qa.Attributes[string(types.QueueAttributeNameQueueArn)]),
		Attributes: map[string]string{"RawMessageDelivery": fmt.Sprint(raw)},
	}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
}

// LifecycleS3 returns an S3 client for tests of bucket lifecycle
// configuration. versitygw v1.8.0 answers NotImplemented to it, so these go to
// the S3 API that fauxqs serves on its SQS/SNS port.
func (c *Clients) LifecycleS3() *s3.Client {
	return s3.NewFromConfig(c.Config, func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_SQS"))
	})
}
