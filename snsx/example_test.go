package snsx_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
	"github.com/sqsx/sqsx/sqsxtest"
)

// This example publishes a 300 KiB message, too large for SNS, to a topic
// with two subscribed SQS queues: one with raw message delivery and one
// without (the body is the SNS JSON envelope). Each subscriber reads the
// whole message and deletes it; the payload survives the first delete
// because it is shared, and is left for an S3 lifecycle rule to expire. It
// runs against in-memory fakes of SNS, SQS and S3.
func Example() {
	ctx := context.Background()
	// In production: sns.NewFromConfig(cfg), s3.NewFromConfig(cfg) and
	// sqs.NewFromConfig(cfg).
	sqsClient, s3Client := sqsxtest.New()
	snsClient := sqsxtest.NewSNS(sqsClient.Log)
	const (
		topic      = "arn:aws:sns:us-east-1:123456789012:orders"
		rawQueue   = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
		auditQueue = "https://sqs.us-east-1.amazonaws.com/123456789012/orders-audit"
	)
	snsClient.Subscribe(topic, sqsClient, rawQueue, true)
	snsClient.Subscribe(topic, sqsClient, auditQueue, false)

	publisher, err := snsx.New(snsClient, s3Client, func(o *snsx.Options) {
		o.Bucket = "my-payload-bucket"
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := publisher.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topic),
		Message:  aws.String(strings.Repeat("x", 300*1024)),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"order": {DataType: aws.String("String"), StringValue: aws.String("A-1001")},
		},
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("objects in S3 after publish:", s3Client.Len())

	// Unwrap hands back the payload itself for the envelope too, with the
	// SNS message attributes as message attributes.
	consumer, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = "my-payload-bucket"
		o.SNSEnvelope = sqsx.SNSEnvelopeUnwrap
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, queue := range []string{rawQueue, auditQueue} {
		out, err := consumer.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(queue),
			MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			log.Fatal(err)
		}
		msg := out.Messages[0]
		fmt.Printf("%s: %d bytes, order %s\n", queue[strings.LastIndex(queue, "/")+1:],
			len(aws.ToString(msg.Body)), aws.ToString(msg.MessageAttributes["order"].StringValue))
		if _, err := consumer.DeleteMessage(ctx, &sqs.DeleteMessageInput{
			QueueUrl:      aws.String(queue),
			ReceiptHandle: msg.ReceiptHandle,
		}); err != nil {
			log.Fatal(err)
		}
		fmt.Println("objects in S3 after delete:", s3Client.Len())
	}
	// Output:
	// objects in S3 after publish: 1
	// orders: 307200 bytes, order A-1001
	// objects in S3 after delete: 1
	// orders-audit: 307200 bytes, order A-1001
	// objects in S3 after delete: 1
}

// This example shows the setup against AWS: an snsx client over the SDK's
// SNS and S3 clients, and the lifecycle rule that expires the payloads,
// which no subscriber deletes. It is not run (it needs AWS credentials).
func ExampleNew() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	s3Client := s3.NewFromConfig(cfg)
	client, err := snsx.New(sns.NewFromConfig(cfg), s3Client, func(o *snsx.Options) {
		o.Bucket = "my-payload-bucket"
		o.KeyPrefix = "sns/"
	})
	if err != nil {
		log.Fatal(err)
	}

	// Once, at deployment (idempotent): payloads under sns/ expire after 14
	// days, long enough for every subscriber to read them.
	if err := payload.PutExpirationRule(ctx, s3Client, "my-payload-bucket", "sns/", 14); err != nil {
		log.Fatal(err)
	}

	out, err := client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:orders"),
		Message:  aws.String(strings.Repeat("x", 1<<20)), // 1 MiB: offloaded
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published", aws.ToString(out.MessageId))
}

// New names every invalid option.
func ExampleNew_invalidOptions() {
	_, err := snsx.New(sqsxtest.NewSNS(nil), sqsxtest.NewS3(nil), func(o *snsx.Options) {
		o.Bucket = "my-payload-bucket"
		o.Threshold = 1 << 20 // more than SNS accepts
		o.AttributeName = "PayloadSize"
	})
	fmt.Println(err)
	// Output:
	// snsx: invalid Options: Threshold: 1048576 is outside 0..262144 (SNS's maximum message size)
	// AttributeName: "PayloadSize" is neither "ExtendedPayloadSize" nor "SQSLargePayloadSize"
}

// By default every payload carries the fan-out marker, so that no sqsx
// subscriber deletes it. With a single subscriber, DeletableByConsumers
// leaves the marker out and the subscriber's DeleteMessage deletes the
// payload too.
func ExampleOptions_deletableByConsumers() {
	ctx := context.Background()
	for _, deletable := range []bool{false, true} {
		s3Client := sqsxtest.NewS3(nil)
		client, err := snsx.New(sqsxtest.NewSNS(nil), s3Client, func(o *snsx.Options) {
			o.Bucket = "my-payload-bucket"
			o.AlwaysThroughS3 = true
			o.DeletableByConsumers = deletable
		})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := client.Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:orders"),
			Message:  aws.String("hello"),
		}); err != nil {
			log.Fatal(err)
		}
		put := sqsxtest.Params[*s3.PutObjectInput](s3Client.Log)[0]
		fmt.Printf("DeletableByConsumers=%v: metadata %v\n", deletable, put.Metadata)
	}
	// Output:
	// DeletableByConsumers=false: metadata map[sqsx-fanout:true]
	// DeletableByConsumers=true: metadata map[]
}
