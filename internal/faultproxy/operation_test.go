package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// capture is an SDK HTTP client that keeps the request instead of sending it.
type capture struct{ req *http.Request }

var errCaptured = errors.New("captured")

// Do keeps a copy of r, body included: the SDK closes the body when Do
// returns.
func (c *capture) Do(r *http.Request) (*http.Response, error) {
	c.req = r.Clone(context.Background())
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		c.req.Body = io.NopCloser(bytes.NewReader(body))
	}
	return nil, errCaptured
}

// sdkConfig is an SDK config that sends nowhere: requests go to c.
func sdkConfig(c *capture) aws.Config {
	return aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
		}),
		HTTPClient:       c,
		RetryMaxAttempts: 1,
		BaseEndpoint:     aws.String("http://127.0.0.1:1"),
	}
}

// TestOperation checks that Operation names the requests aws-sdk-go-v2
// sends, and that S3's are named from method, path and subresource as well
// as from x-id.
func TestOperation(t *testing.T) {
	ctx := context.Background()
	c := &capture{}
	s3c := s3.NewFromConfig(sdkConfig(c), func(o *s3.Options) { o.UsePathStyle = true })
	sqsc := sqs.NewFromConfig(sdkConfig(c))
	snsc := sns.NewFromConfig(sdkConfig(c))
	b, k, q := aws.String("bucket"), aws.String("dir/a b+c.txt"), aws.String("http://127.0.0.1:1/000000000000/q")
	topic := aws.String("arn:aws:sns:us-east-1:000000000000:t")
	up := aws.String("upload-1")
	cases := []struct {
		want string
		call func() error
	}{
		{"s3:PutObject", func() error {
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("x")})
			return err
		}},
		{"s3:GetObject", func() error { _, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k}); return err }},
		{"s3:HeadObject", func() error { _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k}); return err }},
		{"s3:DeleteObject", func() error { _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: k}); return err }},
		{"s3:CopyObject", func() error {
			_, err := s3c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: k, CopySource: aws.String("bucket/src")})
			return err
		}},
		{"s3:DeleteObjects", func() error {
			_, err := s3c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: k}}}})
			return err
		}},
		{"s3:CreateMultipartUpload", func() error {
			_, err := s3c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k})
			return err
		}},
		{"s3:UploadPart", func() error {
			_, err := s3c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: up, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
			return err
		}},
		{"s3:UploadPartCopy", func() error {
			_, err := s3c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: b, Key: k, UploadId: up, PartNumber: aws.Int32(1), CopySource: aws.String("bucket/src")})
			return err
		}},
		{"s3:CompleteMultipartUpload", func() error {
			_, err := s3c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: up})
			return err
		}},
		{"s3:AbortMultipartUpload", func() error {
			_, err := s3c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: up})
			return err
		}},
		{"s3:ListParts", func() error {
			_, err := s3c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: k, UploadId: up})
			return err
		}},
		{"s3:ListObjectsV2", func() error { _, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b}); return err }},
		{"s3:ListMultipartUploads", func() error {
			_, err := s3c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b})
			return err
		}},
		{"s3:CreateBucket", func() error { _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}); return err }},
		{"s3:HeadBucket", func() error { _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b}); return err }},
		{"s3:DeleteBucket", func() error { _, err := s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}); return err }},
		{"s3:GetBucketLifecycleConfiguration", func() error {
			_, err := s3c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
			return err
		}},
		{"s3:PutBucketLifecycleConfiguration", func() error {
			_, err := s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
				LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{Status: s3types.ExpirationStatusEnabled}}}})
			return err
		}},
		{"s3:GetBucketEncryption", func() error {
			_, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
			return err
		}},
		{"sqs:SendMessage", func() error {
			_, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q, MessageBody: aws.String("m")})
			return err
		}},
		{"sqs:ReceiveMessage", func() error { _, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q}); return err }},
		{"sqs:DeleteMessageBatch", func() error {
			_, err := sqsc.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q,
				Entries: []sqstypes.DeleteMessageBatchRequestEntry{{Id: aws.String("1"), ReceiptHandle: aws.String("h")}}})
			return err
		}},
		{"sns:Publish", func() error {
			_, err := snsc.Publish(ctx, &sns.PublishInput{TopicArn: topic, Message: aws.String("m")})
			return err
		}},
		{"sns:PublishBatch", func() error {
			_, err := snsc.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: topic,
				PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{{Id: aws.String("1"), Message: aws.String("m")}}})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			c.req = nil
			if err := tc.call(); !errors.Is(err, errCaptured) {
				t.Fatalf("expect the captured request, got %v", err)
			}
			r := c.req
			if err := readForm(r, DefaultMaxFormBody); err != nil {
				t.Fatal(err)
			}
			if got := Operation(r); got != tc.want {
				t.Errorf("expect %s, got %q (%s %s)", tc.want, got, r.Method, r.URL)
			}
			if q := r.URL.Query(); q.Has("x-id") {
				q.Del("x-id")
				r.URL.RawQuery = q.Encode()
				if got := Operation(r); got != tc.want {
					t.Errorf("without x-id: expect %s, got %q (%s %s)", tc.want, got, r.Method, r.URL)
				}
			}
		})
	}
}
