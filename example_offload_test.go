package sqsx_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
)

// acceptingSQS answers SendMessage; the other methods of SQSAPI are not
// used here. Real code passes sqs.NewFromConfig(cfg).
type acceptingSQS struct{ sqsx.SQSAPI }

func (acceptingSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return &sqs.SendMessageOutput{MessageId: aws.String("m-1")}, nil
}

// acceptingS3 answers PutObject; real code passes s3.NewFromConfig(cfg).
type acceptingS3 struct{ sqsx.S3API }

func (acceptingS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	_, err := io.Copy(io.Discard, in.Body)
	return &s3.PutObjectOutput{}, err
}

func ExampleGetOffloadMetadata() {
	client, err := sqsx.New(acceptingSQS{}, acceptingS3{}, func(o *sqsx.Options) { o.Bucket = "payloads" })
	if err != nil {
		panic(err)
	}
	for _, body := range []string{"hello", strings.Repeat("x", 300_000)} {
		out, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String("https://sqs.us-east-1.amazonaws.com/123456789012/q"), MessageBody: aws.String(body),
		})
		if err != nil {
			panic(err)
		}
		md, _ := sqsx.GetOffloadMetadata(out.ResultMetadata)
		fmt.Printf("%d bytes, threshold %d: offloaded %v, bucket %q\n", md.Size, md.Threshold, md.Offloaded, md.Pointer.Bucket)
	}
	// Output:
	// 5 bytes, threshold 262144: offloaded false, bucket ""
	// 300000 bytes, threshold 262144: offloaded true, bucket "payloads"
}

func ExampleWithOffloadOptions() {
	client, err := sqsx.New(acceptingSQS{}, acceptingS3{}, func(o *sqsx.Options) {
		o.Bucket = "payloads"
		o.AllowedBuckets = []string{"archive"}
	})
	if err != nil {
		panic(err)
	}
	out, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String("https://sqs.us-east-1.amazonaws.com/123456789012/q"), MessageBody: aws.String("small, but to S3"),
	}, sqsx.WithOffloadOptions(func(o *sqsx.CallOptions) {
		o.AlwaysThroughS3 = true
		o.Bucket = "archive"
		o.KeyPrefix = "2026/"
	}))
	if err != nil {
		panic(err)
	}
	md, _ := sqsx.GetOffloadMetadata(out.ResultMetadata)
	fmt.Println(md.Offloaded, md.Pointer.Bucket, strings.HasPrefix(md.Pointer.Key, "2026/"))
	// Output: true archive true
}
