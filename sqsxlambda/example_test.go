package sqsxlambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/sqsxlambda"
	"github.com/sqsx/sqsx/sqsxtest"
)

// The event as Lambda delivers it: a message whose 300 KiB body is in S3, a
// small one, and one whose handler fails.
const event = `{"Records": [
  {"messageId": "m1", "receiptHandle": "h1", "eventSource": "aws:sqs",
   "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
   "body": "[\"software.amazon.payloadoffloading.PayloadS3Pointer\",{\"s3BucketName\":\"my-payload-bucket\",\"s3Key\":\"jobs/0b7c\"}]",
   "attributes": {"ApproximateReceiveCount": "1"},
   "messageAttributes": {"ExtendedPayloadSize": {"stringValue": "307200", "stringListValues": [], "binaryListValues": [], "dataType": "Number"}}},
  {"messageId": "m2", "receiptHandle": "h2", "eventSource": "aws:sqs",
   "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
   "body": "small job", "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}},
  {"messageId": "m3", "receiptHandle": "h3", "eventSource": "aws:sqs",
   "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:jobs",
   "body": "bad job", "attributes": {"ApproximateReceiveCount": "3"}, "messageAttributes": {}}
]}`

// This example handles an SQS event whose first record's body is in S3: the
// handler sees the payload, and the response lists only the record whose
// handler failed. It runs against an in-memory fake of S3.
func ExampleNew() {
	sqsClient, s3Client := sqsxtest.New() // sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg) in Lambda
	s3Client.SetObject("my-payload-bucket", "jobs/0b7c", []byte(strings.Repeat("x", 300*1024)))
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = "my-payload-bucket"
		o.KeyPrefix = "jobs/"
	})
	if err != nil {
		log.Fatal(err)
	}

	handler, err := sqsxlambda.New(client, func(ctx context.Context, r *events.SQSMessage) error {
		if r.Body == "bad job" {
			return errors.New("cannot do it")
		}
		fmt.Printf("%s: %d bytes\n", r.MessageId, len(r.Body))
		return nil
	}, func(o *sqsxlambda.Options) {
		o.Concurrency = 1 // for a stable output
	})
	if err != nil {
		log.Fatal(err)
	}

	var ev events.SQSEvent
	if err := json.Unmarshal([]byte(event), &ev); err != nil {
		log.Fatal(err)
	}
	resp, err := handler(context.Background(), ev) // lambda.Start(handler) in Lambda
	if err != nil {
		log.Fatal(err)
	}
	out, _ := json.Marshal(resp)
	fmt.Println(string(out))
	// Output:
	// m1: 307200 bytes
	// m2: 9 bytes
	// {"batchItemFailures":[{"itemIdentifier":"m3"}]}
}

// This example is the main function of a Lambda function that consumes a
// queue whose large messages are in S3. The payloads it processes are deleted
// (they are not shared), and a lifecycle rule expires the rest.
func ExampleNew_function() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	client, err := sqsx.New(sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg), func(o *sqsx.Options) {
		o.Bucket = "my-payload-bucket"
		o.KeyPrefix = "jobs/"
	})
	if err != nil {
		log.Fatal(err)
	}
	handler, err := sqsxlambda.New(client, func(ctx context.Context, r *events.SQSMessage) error {
		return process(ctx, r.Body)
	}, func(o *sqsxlambda.Options) {
		o.DeletePayloads = true
	})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}

func process(context.Context, string) error { return nil }
