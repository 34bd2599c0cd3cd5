package sqsx_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

// This example sends a 300 KiB message, which is too large for SQS and so
// goes through S3, receives it whole, and deletes it together with its
// payload. It runs against in-memory fakes of SQS and S3.
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

	body := strings.Repeat("x", 300*1024)
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(queueURL),
		MessageBody: aws.String(body),
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("objects in S3 after send:", len(s3Client.Keys()))

	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(queueURL),
		MaxNumberOfMessages: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	msg := out.Messages[0]
	fmt.Println("received bytes:", len(aws.ToString(msg.Body)))

	// The receipt handle of an offloaded message also names its payload.
	h, err := payload.ParseReceiptHandle(aws.ToString(msg.ReceiptHandle))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("offloaded:", h.HasPointer())

	if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{
		QueueUrl:      aws.String(queueURL),
		ReceiptHandle: msg.ReceiptHandle,
	}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("objects in S3 after delete:", len(s3Client.Keys()))
	// Output:
	// objects in S3 after send: 1
	// received bytes: 307200
	// offloaded: true
	// objects in S3 after delete: 0
}

// SendMessageBatch offloads the entries above the threshold and then, largest
// first, as many more as it takes to keep the batch within SQS's 1 MiB limit
// for a whole request.
func ExampleClient_SendMessageBatch() {
	ctx := context.Background()
	sqsClient, s3Client := sqsxtest.New()
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = "my-payload-bucket"
	})
	if err != nil {
		log.Fatal(err)
	}
	queueURL := "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"

	// Ten 200 KiB messages: each is under the 256 KiB threshold, but
	// together they are 2 MiB.
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL)}
	for i := range 10 {
		in.Entries = append(in.Entries, types.SendMessageBatchRequestEntry{
			Id:          aws.String(fmt.Sprint("msg-", i)),
			MessageBody: aws.String(strings.Repeat("x", 200*1024)),
		})
	}
	out, err := client.SendMessageBatch(ctx, in)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sent:", len(out.Successful), "failed:", len(out.Failed))
	fmt.Println("offloaded to S3:", len(s3Client.Keys()))
	// Output:
	// sent: 10 failed: 0
	// offloaded to S3: 5
}

// With UnresolvedReturn, ReceiveMessage hands back a message whose
// payload is gone, unresolved, together with an *UnresolvedError naming it;
// the other messages are resolved as usual.
func ExampleClient_ReceiveMessage() {
	ctx := context.Background()
	sqsClient, s3Client := sqsxtest.New()
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = "my-payload-bucket"
		o.Unresolved = sqsx.UnresolvedReturn
	})
	if err != nil {
		log.Fatal(err)
	}
	queueURL := "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"

	for _, body := range []string{strings.Repeat("a", 300000), strings.Repeat("b", 300000)} {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)}); err != nil {
			log.Fatal(err)
		}
	}
	// Someone deletes the first payload (say, an S3 lifecycle rule).
	bucket, key, _ := strings.Cut(s3Client.Keys()[0], "/")
	s3Client.RemoveObject(bucket, key)

	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(queueURL),
		MaxNumberOfMessages: 10,
	})
	var ue *sqsx.UnresolvedError
	if errors.As(err, &ue) {
		fmt.Println("unresolved:", len(ue.Messages), "not found:", errors.Is(err, sqsx.ErrPayloadNotFound))
	} else if err != nil {
		log.Fatal(err)
	}
	skip := map[string]bool{}
	if ue != nil {
		for _, m := range ue.Messages {
			skip[m.MessageID] = true
		}
	}
	for _, m := range out.Messages {
		if skip[aws.ToString(m.MessageId)] {
			fmt.Println("skipped a message still carrying its pointer:", strings.HasPrefix(aws.ToString(m.Body), `["software.amazon.payloadoffloading.PayloadS3Pointer"`))
			continue
		}
		fmt.Println("processed a message of", len(aws.ToString(m.Body)), "bytes")
	}
	// Unordered output:
	// unresolved: 1 not found: true
	// skipped a message still carrying its pointer: true
	// processed a message of 300000 bytes
}

// A message may not set the reserved size attribute itself. The error names
// the offending field.
func ExampleInputError() {
	sqsClient, s3Client := sqsxtest.New()
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) { o.Bucket = "my-payload-bucket" })
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl:    aws.String("https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"),
		MessageBody: aws.String("hello"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"ExtendedPayloadSize": {DataType: aws.String("Number"), StringValue: aws.String("5")},
		},
	})
	var ie *sqsx.InputError
	if errors.As(err, &ie) {
		fmt.Println(ie.Field)
		fmt.Println(errors.Is(err, sqsx.ErrReservedAttribute))
	}
	// Output:
	// MessageAttributes["ExtendedPayloadSize"]
	// true
}

// This example shows the setup against AWS (or an emulator such as
// LocalStack, named by the standard AWS_ENDPOINT_URL_* variables). It is not
// run.
func Example_realAWS() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		// S3 emulators usually serve path-style URLs only.
		if os.Getenv("AWS_ENDPOINT_URL_S3") != "" {
			o.UsePathStyle = true
		}
	})
	client, err := sqsx.New(sqs.NewFromConfig(cfg), s3Client, func(o *sqsx.Options) {
		o.Bucket = "my-payload-bucket"
		o.KeyPrefix = "payloads/"
	})
	if err != nil {
		log.Fatal(err)
	}
	out, err := client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String("https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"),
		MessageBody: aws.String(strings.Repeat("x", 1<<20)),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sent", aws.ToString(out.MessageId))
}
