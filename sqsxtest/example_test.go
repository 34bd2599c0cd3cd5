package sqsxtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/snsx"
	"github.com/sqsx/sqsx/sqsxtest"
)

// This example sends a message too large for SQS through an sqsx client
// over the fakes, then checks what reached each service.
func Example() {
	ctx := context.Background()
	sqsClient, s3Client := sqsxtest.New() // sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg) in production
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = "my-payload-bucket"
	})
	if err != nil {
		log.Fatal(err)
	}
	queueURL := "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(queueURL),
		MessageBody: aws.String(strings.Repeat("x", 300*1024)),
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("calls:", sqsClient.Log.Calls())
	fmt.Println("objects in S3:", s3Client.Len())
	fmt.Println("pointer in SQS:", strings.Contains(aws.ToString(sqsClient.Messages(queueURL)[0].Body), "my-payload-bucket"))
	// Output:
	// calls: [PutObject SendMessage]
	// objects in S3: 1
	// pointer in SQS: true
}

// This example publishes a large message through an snsx client to the SNS
// fake, which delivers it to a subscribed queue of the SQS fake, where an
// sqsx client reads it whole.
func ExampleSNS_Subscribe() {
	ctx := context.Background()
	sqsClient, s3Client := sqsxtest.New()
	snsClient := sqsxtest.NewSNS(sqsClient.Log)
	const (
		topic = "arn:aws:sns:us-east-1:123456789012:orders"
		queue = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
	)
	snsClient.Subscribe(topic, sqsClient, queue, true) // raw message delivery

	publisher, err := snsx.New(snsClient, s3Client, func(o *snsx.Options) { o.Bucket = "my-payload-bucket" })
	if err != nil {
		log.Fatal(err)
	}
	if _, err := publisher.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topic),
		Message:  aws.String(strings.Repeat("x", 300*1024)),
	}); err != nil {
		log.Fatal(err)
	}
	consumer, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) { o.Bucket = "my-payload-bucket" })
	if err != nil {
		log.Fatal(err)
	}
	out, err := consumer.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("received bytes:", len(aws.ToString(out.Messages[0].Body)))
	fmt.Println("calls:", sqsClient.Log.Calls())
	// Output:
	// received bytes: 307200
	// calls: [PutObject Publish ReceiveMessage GetObject]
}

// An override injects a failure: here S3 refuses the upload, so the client
// does not send the message and deletes whatever the upload may have left.
func ExampleS3_PutObjectFn() {
	sqsClient, s3Client := sqsxtest.New()
	s3Client.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		return nil, errors.New("access denied")
	}
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) { o.Bucket = "my-payload-bucket" })
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl:    aws.String("https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"),
		MessageBody: aws.String(strings.Repeat("x", 300*1024)),
	})
	fmt.Println(err != nil, sqsClient.Log.Calls())
	// Output:
	// true [PutObject DeleteObject]
}
