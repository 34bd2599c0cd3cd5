package sqsx_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
)

// sseMarker is a string of every body the SSE tests send, which must not
// be found in the stored files of an encrypted object.
const sseMarker = "sqsx ✓ größe 日本語"

// sseSend is one way of sending offloaded messages. It returns the bodies it
// sent by message id.
type sseSend func(t *testing.T, c *sqsx.Client, queue string) (map[string]string, error)

var sseSends = map[string]sseSend{
	"SendMessage": func(t *testing.T, c *sqsx.Client, queue string) (map[string]string, error) {
		body := text(300 << 10)
		out, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(body)})
		if err != nil {
			return nil, err
		}
		return map[string]string{aws.ToString(out.MessageId): body}, nil
	},
	"SendMessageBatch": func(t *testing.T, c *sqsx.Client, queue string) (map[string]string, error) {
		bodies := map[string]string{"a": text(300 << 10), "b": text(270000)}
		out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
			QueueUrl: aws.String(queue),
			Entries: []types.SendMessageBatchRequestEntry{
				{Id: aws.String("a"), MessageBody: aws.String(bodies["a"])},
				{Id: aws.String("b"), MessageBody: aws.String(bodies["b"])},
			},
		})
		if err != nil {
			return nil, err
		}
		if len(out.Failed) != 0 {
			return nil, fmt.Errorf("%d entries failed: %s", len(out.Failed), failures(out.Failed))
		}
		sent := map[string]string{}
		for _, s := range out.Successful {
			sent[aws.ToString(s.MessageId)] = bodies[aws.ToString(s.Id)]
		}
		return sent, nil
	},
	// 11 MiB in parts of 5 MiB: a multipart upload.
	"SendMessageStream": func(t *testing.T, c *sqsx.Client, queue string) (map[string]string, error) {
		body := text(11 << 20)
		out, err := c.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queue)}, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		return map[string]string{aws.ToString(out.MessageId): body}, nil
	},
}

// sseSettings are the encryption settings under test, for a server whose
// KMS key is kmsKey.
func sseSettings(kmsKey string) map[string]payload.StoreOptions {
	return map[string]payload.StoreOptions{
		"SSE-S3":              {ServerSideEncryption: s3types.ServerSideEncryptionAes256},
		"SSE-KMS default key": {ServerSideEncryption: s3types.ServerSideEncryptionAwsKms},
		"SSE-KMS with key id": {SSEKMSKeyID: kmsKey},
	}
}

// sseClient returns a client that offloads to bucket on srv with the
// encryption of sse, in parts of the smallest size.
func sseClient(t *testing.T, env *testenv.Clients, srv testenv.SSEServer, bucket string, sse payload.StoreOptions) *sqsx.Client {
	t.Helper()
	c, err := sqsx.New(env.SQS, srv.S3, func(o *sqsx.Options) {
		o.Bucket = bucket
		o.ServerSideEncryption = sse.ServerSideEncryption
		o.SSEKMSKeyID = sse.SSEKMSKeyID
		o.PartSize = payload.MinPartSize
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestIntegSSE offloads with each encryption setting, by each way of
// sending, to the backend's S3 and to MinIO: S3 reports the encryption on
// HeadObject, MinIO's stored files do not hold the body, and the messages
// still round-trip.
func TestIntegSSE(t *testing.T) {
	env := testenv.Require(t)
	for _, srv := range env.SSEServers(t) {
		t.Run(srv.Name, func(t *testing.T) {
			if srv.DataDir != "" {
				// The control: without encryption the body is found.
				bucket := testenv.BucketOn(t, srv.S3)
				if _, err := srv.S3.PutObject(context.Background(), &s3.PutObjectInput{
					Bucket: aws.String(bucket), Key: aws.String("plain"), Body: strings.NewReader(text(300 << 10)),
				}); err != nil {
					t.Fatal(err)
				}
				srv.CheckPlain(t, bucket, "plain", sseMarker)
			}
			for setting, sse := range sseSettings(srv.KMSKey) {
				for op, send := range sseSends {
					t.Run(setting+"/"+op, func(t *testing.T) {
						bucket := testenv.BucketOn(t, srv.S3)
						queue := env.Queue(t, false, nil)
						c := sseClient(t, env, srv, bucket, sse)
						sent, err := send(t, c, queue)
						if err != nil {
							t.Fatalf("%s: %v", op, err)
						}
						keys := testenv.KeysOn(t, srv.S3, bucket)
						if len(keys) != len(sent) {
							t.Fatalf("expect %d objects, got %v", len(sent), keys)
						}
						want := sse.ServerSideEncryption
						if want == "" {
							want = s3types.ServerSideEncryptionAwsKms
						}
						for _, k := range keys {
							srv.CheckEncrypted(t, bucket, k, want, sse.SSEKMSKeyID, sseMarker)
						}
						msgs := testenv.ReceiveAll(t, c, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), VisibilityTimeout: 30}, len(sent), 30*time.Second)
						// By body, not id: a send the SDK retried after a
						// lost answer queues a second copy under another id.
						bodies := map[string]bool{}
						for _, b := range sent {
							bodies[b] = true
						}
						for _, m := range msgs {
							if !bodies[aws.ToString(m.Body)] {
								t.Fatalf("message %s: body differs from every body sent", aws.ToString(m.MessageId))
							}
							if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
								t.Fatalf("DeleteMessage: %v", err)
							}
						}
						if keys := testenv.KeysOn(t, srv.S3, bucket); len(keys) != 0 {
							t.Fatalf("expect the payloads deleted, got %v", keys)
						}
					})
				}
			}
		})
	}
}

// TestIntegSSEUnknownKey offloads with a KMS key the server does not have:
// S3 refuses the upload, so nothing is sent to SQS, nothing is left in the
// bucket and no multipart upload is left open. The backends do not check
// the key (known deviations); MinIO does.
func TestIntegSSEUnknownKey(t *testing.T) {
	env := testenv.Require(t)
	const unknown = "sqsx-no-such-key"
	for _, srv := range env.SSEServers(t) {
		for op, send := range sseSends {
			t.Run(srv.Name+"/"+op, func(t *testing.T) {
				bucket := testenv.BucketOn(t, srv.S3)
				queue := env.Queue(t, false, nil)
				c := sseClient(t, env, srv, bucket, payload.StoreOptions{SSEKMSKeyID: unknown})
				sent, err := send(t, c, queue)
				if srv.AcceptsUnknownKMSKey {
					if err != nil {
						t.Fatalf("expect %s to accept the unknown key (known deviation), got %v", srv.Name, err)
					}
					for _, k := range testenv.KeysOn(t, srv.S3, bucket) {
						srv.CheckEncrypted(t, bucket, k, s3types.ServerSideEncryptionAwsKms, unknown, sseMarker)
					}
					testenv.ReceiveAll(t, env.SQS, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue)}, len(sent), 30*time.Second)
					return
				}
				if err == nil {
					t.Fatalf("expect %s to fail, it sent %d messages", op, len(sent))
				}
				t.Logf("%s: %v", op, err)
				if op == "SendMessageBatch" {
					// Each entry fails on its own; the error names them.
					if !strings.Contains(err.Error(), sqsx.CodePayloadUploadFailed) || !strings.Contains(err.Error(), srv.UnknownKMSKeyCode) {
						t.Fatalf("expect the entries failed with %s and %s, got %v", sqsx.CodePayloadUploadFailed, srv.UnknownKMSKeyCode, err)
					}
				} else {
					var perr *sqsx.PayloadError
					var apiErr smithy.APIError
					if !errors.As(err, &perr) || perr.Bucket != bucket || !errors.As(err, &apiErr) || apiErr.ErrorCode() != srv.UnknownKMSKeyCode {
						t.Fatalf("expect a *PayloadError for bucket %s with code %s, got %v", bucket, srv.UnknownKMSKeyCode, err)
					}
				}
				if keys := testenv.KeysOn(t, srv.S3, bucket); len(keys) != 0 {
					t.Fatalf("expect no object left, got %v", keys)
				}
				uploads, err := srv.S3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
				if err != nil || len(uploads.Uploads) != 0 {
					t.Fatalf("expect no multipart upload left, got %+v, %v", uploads, err)
				}
				out, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), WaitTimeSeconds: 1})
				if err != nil || len(out.Messages) != 0 {
					t.Fatalf("expect nothing sent to SQS, got %+v, %v", out, err)
				}
			})
		}
	}
}
