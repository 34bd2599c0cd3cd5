package snsx_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
)

// sseMarker is a string of every body these tests publish.
const sseMarker = "größe ✓ 日本語"

// TestIntegPublishSSE publishes offloaded messages with each encryption
// setting to the backend's S3 and to MinIO, checks the objects' encryption
// and reads them back through a subscribed queue.
func TestIntegPublishSSE(t *testing.T) {
	env := testenv.Require(t)
	for _, srv := range env.SSEServers(t) {
		settings := map[string]payload.StoreOptions{
			"SSE-S3":              {ServerSideEncryption: s3types.ServerSideEncryptionAes256},
			"SSE-KMS default key": {ServerSideEncryption: s3types.ServerSideEncryptionAwsKms},
			"SSE-KMS with key id": {SSEKMSKeyID: srv.KMSKey},
		}
		for name, sse := range settings {
			t.Run(srv.Name+"/"+name, func(t *testing.T) {
				bucket := testenv.BucketOn(t, srv.S3)
				topic := env.Topic(t, false)
				pub, err := snsx.New(env.SNS, srv.S3, func(o *snsx.Options) {
					o.Bucket, o.ServerSideEncryption, o.SSEKMSKeyID = bucket, sse.ServerSideEncryption, sse.SSEKMSKeyID
				})
				if err != nil {
					t.Fatal(err)
				}
				queue := env.Queue(t, false, nil)
				env.Subscribe(t, topic, queue, true)
				consumer, err := sqsx.New(env.SQS, srv.S3, func(o *sqsx.Options) { o.Bucket = bucket })
				if err != nil {
					t.Fatal(err)
				}
				body := text(300<<10, "sse")
				if _, err := pub.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(body)}); err != nil {
					t.Fatalf("Publish: %v", err)
				}
				keys := testenv.KeysOn(t, srv.S3, bucket)
				if len(keys) != 1 {
					t.Fatalf("expect 1 object, got %v", keys)
				}
				want := sse.ServerSideEncryption
				if want == "" {
					want = s3types.ServerSideEncryptionAwsKms
				}
				srv.CheckEncrypted(t, bucket, keys[0], want, sse.SSEKMSKeyID, sseMarker)
				si := &snsInteg{t: t, env: env}
				m := si.receive(consumer, queue, 1)[0]
				if aws.ToString(m.Body) != body {
					t.Fatalf("expect the payload as body, got %.80q", aws.ToString(m.Body))
				}
				deleteMessage(t, consumer, queue, m)
			})
		}
	}
}

// TestIntegPublishSSEUnknownKey publishes with a KMS key the server does not
// have: MinIO refuses the upload, so nothing is published and nothing is
// left in the bucket. The backends accept it (known deviations).
func TestIntegPublishSSEUnknownKey(t *testing.T) {
	env := testenv.Require(t)
	const unknown = "sqsx-no-such-key"
	for _, srv := range env.SSEServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			bucket := testenv.BucketOn(t, srv.S3)
			topic := env.Topic(t, false)
			queue := env.Queue(t, false, nil)
			env.Subscribe(t, topic, queue, true)
			pub, err := snsx.New(env.SNS, srv.S3, func(o *snsx.Options) { o.Bucket, o.SSEKMSKeyID = bucket, unknown })
			if err != nil {
				t.Fatal(err)
			}
			_, err = pub.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(text(300<<10, "sse"))})
			if srv.AcceptsUnknownKMSKey {
				if err != nil {
					t.Fatalf("expect %s to accept the unknown key (known deviation), got %v", srv.Name, err)
				}
				return
			}
			t.Logf("Publish: %v", err)
			var perr *sqsx.PayloadError
			var apiErr smithy.APIError
			if !errors.As(err, &perr) || perr.Bucket != bucket || !errors.As(err, &apiErr) || apiErr.ErrorCode() != srv.UnknownKMSKeyCode {
				t.Fatalf("expect a *PayloadError for bucket %s with code %s, got %v", bucket, srv.UnknownKMSKeyCode, err)
			}
			if keys := testenv.KeysOn(t, srv.S3, bucket); len(keys) != 0 {
				t.Fatalf("expect no object left, got %v", keys)
			}
			out, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), WaitTimeSeconds: 1})
			if err != nil || len(out.Messages) != 0 {
				t.Fatalf("expect nothing published, got %+v, %v", out, err)
			}
		})
	}
}
