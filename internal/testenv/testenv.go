// Package testenv connects tests to the local S3 and SQS/SNS servers that
// scripts/servers.sh starts, through the standard AWS_* environment
// variables. When they are not set a test is skipped, except under CI=true,
// where it fails: in CI the integration tests must run.
//
// The servers are one of two backends, named by SQSX_BACKEND: "emulators"
// (versitygw and fauxqs) or "moto". Where a server is known to differ from
// AWS, [Quirks] says so, and a test asserts AWS's behaviour everywhere else
// and the server's known deviation there (docs/conformance.md lists them).
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
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

	// Backend is the backend that serves them: BackendEmulators or
	// BackendMoto.
	Backend string
	// Quirks are the backend's known deviations from AWS.
	Quirks Quirks
}

// Backends that scripts/servers.sh starts (SQSX_BACKEND).
const (
	BackendEmulators = "emulators" // versitygw for S3, fauxqs for SQS and SNS
	BackendMoto      = "moto"      // moto for S3, SQS and SNS
)

// Quirks are deviations from AWS that the tests meet on a backend. Each is
// described, with the AWS documentation it was checked against, in
// docs/conformance.md.
type Quirks struct {
	// AcceptsInvalidReceiptHandles: DeleteMessage and DeleteMessageBatch
	// succeed with a receipt handle SQS answers with ReceiptHandleIsInvalid,
	// and ChangeMessageVisibility answers MessageNotInflight (fauxqs).
	AcceptsInvalidReceiptHandles bool

	// RefusesSupplementaryCharacters: SendMessage refuses a body with a
	// character above U+FFFF, which SQS accepts (fauxqs).
	RefusesSupplementaryCharacters bool

	// ChecksumsAllAttributes: ReceiveMessage returns the MD5 of all of a
	// message's attributes when only some were requested, which the Java
	// SDK's checksum validation rejects; the Go SDK checks only the body's
	// (fauxqs).
	ChecksumsAllAttributes bool

	// IgnoresSSE: S3 accepts server-side encryption headers but neither
	// applies nor reports them (versitygw).
	IgnoresSSE bool

	// NoDefaultKMSKeyID: after an SSE-KMS PutObject without a key id,
	// HeadObject names no key, where S3 names the AWS managed key (moto).
	NoDefaultKMSKeyID bool

	// AcceptsAnyCredentials: requests signed with a wrong secret key
	// succeed, where AWS answers SignatureDoesNotMatch (moto).
	AcceptsAnyCredentials bool

	// AcceptsUnknownKMSKey: SSE-KMS with a key id KMS does not have
	// succeeds, where S3 refuses it (moto).
	AcceptsUnknownKMSKey bool

	// RawBinaryAttributeFails: a Binary message attribute published to SNS
	// and delivered raw to SQS makes ReceiveMessage fail with HTTP 500
	// (moto).
	RawBinaryAttributeFails bool

	// FIFOTopicDropsContentDedupID: a FIFO topic with content-based
	// deduplication delivers a message published without a deduplication
	// id to its SQS FIFO subscribers without one, so a subscribed queue
	// without content-based deduplication refuses it and the Publish fails
	// (moto).
	FIFOTopicDropsContentDedupID bool

	// FIFOReceivesRace: concurrent ReceiveMessage calls on a FIFO queue
	// are not serialized, so two of them can return messages of one
	// message group (out of order across the calls), or the same message
	// twice, where SQS returns no more messages of a group while one is in
	// flight (moto).
	FIFOReceivesRace bool

	// FixedUploadInitiated: ListMultipartUploads reports every upload as
	// initiated at the same time in 2010, not when it was created (moto).
	FixedUploadInitiated bool

	// DropsMessageSystemAttributes: SendMessage accepts
	// MessageSystemAttributes (AWSTraceHeader) but does not keep them, so
	// ReceiveMessage never returns AWSTraceHeader (fauxqs).
	DropsMessageSystemAttributes bool
}

// quirks are the known deviations of each backend.
var quirks = map[string]Quirks{
	BackendEmulators: {
		AcceptsInvalidReceiptHandles:   true,
		RefusesSupplementaryCharacters: true,
		ChecksumsAllAttributes:         true,
		IgnoresSSE:                     true,
		DropsMessageSystemAttributes:   true,
	},
	BackendMoto: {
		AcceptsAnyCredentials:   true,
		AcceptsUnknownKMSKey:    true,
		NoDefaultKMSKeyID:       true,
		RawBinaryAttributeFails: true,

		FIFOTopicDropsContentDedupID: true,
		FIFOReceivesRace:             true,
		FixedUploadInitiated:         true,
	},
}

// skipOrFail fails t under CI=true and skips it otherwise.
func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
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
		skipOrFail(t, fmt.Sprintf("local servers not configured (%s unset); run scripts/test.sh, or scripts/servers.sh start and source .servers/env",
			strings.Join(missing, ", ")))
	}
	backend := os.Getenv("SQSX_BACKEND")
	if backend == "" {
		backend = BackendEmulators
	}
	q, ok := quirks[backend]
	if !ok {
		t.Fatalf("SQSX_BACKEND=%s: want %s or %s", backend, BackendEmulators, BackendMoto)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatalf("loading AWS config: %v", err)
	}
	return &Clients{
		Config:  cfg,
		S3:      s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		SQS:     sqs.NewFromConfig(cfg),
		SNS:     sns.NewFromConfig(cfg),
		Backend: backend,
		Quirks:  q,
	}
}

// SSEServer is an S3 server for the tests of server-side encryption, with
// what it is known to do differently from S3.
type SSEServer struct {
	// Name is the backend's name or "minio".
	Name string
	// S3 is a client for it (path style).
	S3 *s3.Client
	// KMSKey is a KMS key id it accepts for SSE-KMS.
	KMSKey string
	// DataDir, if set, is its storage directory, where an object is stored
	// under DataDir/bucket/key/: a test can read that it is encrypted.
	DataDir string

	// IgnoresSSE: it accepts SSE headers but neither applies nor reports
	// them (Quirks.IgnoresSSE).
	IgnoresSSE bool
	// NoDefaultKMSKeyID: after SSE-KMS without a key id, HeadObject names no
	// key (Quirks.NoDefaultKMSKeyID).
	NoDefaultKMSKeyID bool
	// AcceptsUnknownKMSKey: SSE-KMS with a key id it does not have succeeds
	// (Quirks.AcceptsUnknownKMSKey), where S3 refuses it.
	AcceptsUnknownKMSKey bool
	// UnknownKMSKeyCode is the error code with which it refuses a KMS key id
	// it does not have: S3's KMS.NotFoundException, or its own.
	UnknownKMSKeyCode string
}

// BackendKMSKey is the KMS key id the SSE tests give the backends' S3: an
// id in the form AWS uses, of a key that does not exist, which neither
// backend checks (see SSEServer.AcceptsUnknownKMSKey).
const BackendKMSKey = "arn:aws:kms:us-east-1:000000000000:key/6c1f4f3e-2b1a-4c5d-9e8f-0a1b2c3d4e5f"

// SSEServers returns the backend's S3 and the MinIO server that
// scripts/servers.sh starts beside either backend: unlike the backends' S3,
// MinIO encrypts objects with a KMS key of its own and refuses encryption it
// cannot do. Without MinIO in the environment t is skipped (failed when
// CI=true).
func (c *Clients) SSEServers(t testing.TB) []SSEServer {
	t.Helper()
	vars := map[string]string{}
	var missing []string
	for _, v := range []string{"SQSX_MINIO_ENDPOINT", "SQSX_MINIO_ACCESS_KEY_ID", "SQSX_MINIO_SECRET_ACCESS_KEY", "SQSX_MINIO_KMS_KEY", "SQSX_MINIO_DATA"} {
		if vars[v] = os.Getenv(v); vars[v] == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		skipOrFail(t, fmt.Sprintf("MinIO not configured (%s unset); run scripts/test.sh, or scripts/servers.sh start and source .servers/env",
			strings.Join(missing, ", ")))
	}
	minio := s3.NewFromConfig(c.Config, func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(vars["SQSX_MINIO_ENDPOINT"])
		o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: vars["SQSX_MINIO_ACCESS_KEY_ID"], SecretAccessKey: vars["SQSX_MINIO_SECRET_ACCESS_KEY"]}, nil
		})
	})
	return []SSEServer{
		{
			Name:                 c.Backend,
			S3:                   c.S3,
			KMSKey:               BackendKMSKey,
			IgnoresSSE:           c.Quirks.IgnoresSSE,
			NoDefaultKMSKeyID:    c.Quirks.NoDefaultKMSKeyID,
			AcceptsUnknownKMSKey: c.Quirks.AcceptsUnknownKMSKey || c.Quirks.IgnoresSSE,
			UnknownKMSKeyCode:    "KMS.NotFoundException",
		},
		{
			Name:              "minio",
			S3:                minio,
			KMSKey:            vars["SQSX_MINIO_KMS_KEY"],
			DataDir:           vars["SQSX_MINIO_DATA"],
			UnknownKMSKeyCode: "kms:KeyNotFound",
		},
	}
}

// CheckEncrypted checks, with HeadObject, that the object at bucket and key
// is encrypted with sse and, for SSE-KMS, the key keyID ("": the default
// key), or shows the server's known deviation. With DataDir it also checks
// that marker, a string of the object's body, is nowhere in its stored files.
func (s SSEServer) CheckEncrypted(t testing.TB, bucket, key string, sse s3types.ServerSideEncryption, keyID, marker string) {
	t.Helper()
	head, err := s.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("HeadObject %s: %v", key, err)
	}
	gotKey := aws.ToString(head.SSEKMSKeyId)
	switch {
	case s.IgnoresSSE:
		if head.ServerSideEncryption != "" || gotKey != "" {
			t.Fatalf("expect %s to report no encryption (known deviation), got %q %q", s.Name, head.ServerSideEncryption, gotKey)
		}
		return
	case head.ServerSideEncryption != sse:
		t.Fatalf("expect %s encryption %q, got %q", key, sse, head.ServerSideEncryption)
	case sse != s3types.ServerSideEncryptionAwsKms:
		if gotKey != "" {
			t.Fatalf("expect no KMS key for %s, got %q", sse, gotKey)
		}
	case keyID != "":
		// S3 reports the key's ARN, which ends in its id.
		if !strings.HasSuffix(gotKey, keyID) {
			t.Fatalf("expect KMS key %q, got %q", keyID, gotKey)
		}
	case s.NoDefaultKMSKeyID:
		if gotKey != "" {
			t.Fatalf("expect %s to name no default KMS key (known deviation), got %q", s.Name, gotKey)
		}
	case gotKey == "":
		t.Fatal("expect the default KMS key named, got none")
	}
	if s.DataDir != "" {
		if s.stores(t, bucket, key, marker) {
			t.Fatalf("expect %s/%s encrypted at rest, found %q in its files under %s", bucket, key, marker, s.DataDir)
		}
	}
}

// CheckPlain checks that marker is found in the stored files of the object
// at bucket and key: the control that shows CheckEncrypted's search works.
func (s SSEServer) CheckPlain(t testing.TB, bucket, key, marker string) {
	t.Helper()
	if !s.stores(t, bucket, key, marker) {
		t.Fatalf("expect %q in the files of the unencrypted object %s/%s under %s", marker, bucket, key, s.DataDir)
	}
}

// stores reports whether marker is in any file stored for bucket and key.
func (s SSEServer) stores(t testing.TB, bucket, key, marker string) bool {
	t.Helper()
	found, files := false, 0
	err := filepath.WalkDir(filepath.Join(s.DataDir, bucket, key), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files++
		found = found || bytes.Contains(b, []byte(marker))
		return err
	})
	if err != nil || files == 0 {
		t.Fatalf("reading the stored files of %s/%s under %s: %d files, %v", bucket, key, s.DataDir, files, err)
	}
	return found
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
	return BucketOn(t, c.S3)
}

// BucketOn creates a new bucket with api and removes it, with its objects,
// when t ends.
func BucketOn(t testing.TB, api *s3.Client) string {
	t.Helper()
	ctx := context.Background()
	name := Name("sqsx")
	if _, err := api.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	t.Cleanup(func() {
		for _, k := range KeysOn(t, api, name) {
			api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String(k)})
		}
		api.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	})
	return name
}

// Keys lists every key in bucket.
func (c *Clients) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	return KeysOn(t, c.S3, bucket)
}

// KeysOn lists every key in bucket with api.
func KeysOn(t testing.TB, api *s3.Client, bucket string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(api, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
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

// EnvUint returns the value of the environment variable name as an
// unsigned integer, or def if it is unset; it fails t if the value is not
// one. The soaks read their seed and size this way.
func EnvUint(t testing.TB, name string, def uint64) uint64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// MessageCount returns how many messages a queue holds, visible, in flight
// or delayed, or -1 if it cannot tell.
func (c *Clients) MessageCount(ctx context.Context, queueURL string) int {
	names := []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}
	out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL), AttributeNames: names})
	if err != nil {
		return -1
	}
	total := 0
	for _, name := range names {
		n, err := strconv.Atoi(out.Attributes[string(name)])
		if err != nil {
			return -1
		}
		total += n
	}
	return total
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
// configuration, at SQSX_LIFECYCLE_ENDPOINT_S3 if it is set: versitygw
// v1.8.0 answers NotImplemented to it, so with the emulators these go to the
// S3 API that fauxqs serves on its SQS/SNS port.
func (c *Clients) LifecycleS3() *s3.Client {
	return s3.NewFromConfig(c.Config, func(o *s3.Options) {
		o.UsePathStyle = true
		if ep := LifecycleEndpoint(); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
}

// LifecycleEndpoint returns the endpoint LifecycleS3 uses, or "" for
// AWS_ENDPOINT_URL_S3.
func LifecycleEndpoint() string { return os.Getenv("SQSX_LIFECYCLE_ENDPOINT_S3") }
