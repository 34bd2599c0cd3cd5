package snsx_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
)

// acceptingSNS answers Publish; real code passes sns.NewFromConfig(cfg).
type acceptingSNS struct{ snsx.SNSAPI }

func (acceptingSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return &sns.PublishOutput{MessageId: aws.String("m-1")}, nil
}

// acceptingS3 answers the uploads; real code passes s3.NewFromConfig(cfg).
type acceptingS3 struct{ payload.S3API }

func (acceptingS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	_, err := io.Copy(io.Discard, in.Body)
	return &s3.PutObjectOutput{}, err
}

func ExampleClient_PublishStream() {
	client, err := snsx.New(acceptingSNS{}, acceptingS3{}, func(o *snsx.Options) { o.Bucket = "payloads" })
	if err != nil {
		panic(err)
	}
	// Any io.Reader: a file, a pipe, a network stream. Only the threshold
	// is held in memory.
	body := strings.NewReader(strings.Repeat("x", 1_000_000))
	out, err := client.PublishStream(context.Background(), &sns.PublishInput{
		TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:reports"),
	}, body)
	if err != nil {
		panic(err)
	}
	md, _ := snsx.GetOffloadMetadata(out.ResultMetadata)
	fmt.Println(md.Offloaded, md.Size, md.Pointer.Bucket)
	// Output: true 1000000 payloads
}
