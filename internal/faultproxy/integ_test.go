package faultproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sqsx/sqsx/internal/testenv"
)

// These tests run the SDK's clients through the proxy to the local servers
// (see scripts/servers.sh), and check what each fault does at the SDK's
// level. Without the servers they skip, and under CI=true they fail.

// integ holds a proxy in front of each local server.
type integ struct {
	env         *testenv.Clients
	s3p, sqsp   *Proxy // S3, and SQS and SNS (one fauxqs port serves both)
	bucket      string
	s3Endpoint  string
	sqsEndpoint string
}

func newInteg(t *testing.T, optFns ...func(*Options)) *integ {
	t.Helper()
	env := testenv.Require(t)
	it := &integ{env: env, s3Endpoint: os.Getenv("AWS_ENDPOINT_URL_S3"), sqsEndpoint: os.Getenv("AWS_ENDPOINT_URL_SQS")}
	it.s3p = Start(t, it.s3Endpoint, optFns...)
	it.sqsp = Start(t, it.sqsEndpoint, optFns...)
	it.bucket = env.Bucket(t)
	return it
}

// Clients through a proxy. attempts is RetryMaxAttempts: 1 disables the
// SDK's retries, 0 keeps its default (3). The SDK logs a warning when it
// cannot drain a truncated response; the tests cause that on purpose.
func (it *integ) s3(p *Proxy, attempts int) *s3.Client {
	return s3.NewFromConfig(it.env.Config, func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(p.URL())
		o.RetryMaxAttempts = attempts
		o.Logger = logging.Nop{}
	})
}

func (it *integ) sqs(attempts int) *sqs.Client {
	return sqs.NewFromConfig(it.env.Config, func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(it.sqsp.URL())
		o.RetryMaxAttempts = attempts
		o.Logger = logging.Nop{}
	})
}

func (it *integ) sns(attempts int) *sns.Client {
	return sns.NewFromConfig(it.env.Config, func(o *sns.Options) {
		o.BaseEndpoint = aws.String(it.sqsp.URL())
		o.RetryMaxAttempts = attempts
		o.Logger = logging.Nop{}
	})
}

// depth returns how many messages are visible in queue, asking the server
// directly.
func (it *integ) depth(t *testing.T, queue string) int {
	t.Helper()
	out, err := it.env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queue), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	n, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// exists reports whether the object is in the bucket, asking the server
// directly.
func (it *integ) exists(t *testing.T, key string) bool {
	t.Helper()
	_, err := it.env.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(it.bucket), Key: aws.String(key)})
	var nf *s3types.NotFound
	if err != nil && !errors.As(err, &nf) {
		t.Fatalf("HeadObject %s: %v", key, err)
	}
	return err == nil
}

// Checks of the error an SDK call returned.

func isAPIError(code string, status int) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ae smithy.APIError
		var se interface{ HTTPStatusCode() int }
		if !errors.As(err, &ae) || ae.ErrorCode() != code || !errors.As(err, &se) || se.HTTPStatusCode() != status {
			t.Errorf("expect API error %s with status %d, got %v", code, status, err)
		}
	}
}

func isSendError(t *testing.T, err error) {
	t.Helper()
	var se *smithyhttp.RequestSendError
	if !errors.As(err, &se) {
		t.Errorf("expect a *smithyhttp.RequestSendError, got %v", err)
	}
}

func isDeadline(t *testing.T, err error) {
	t.Helper()
	var ce *smithy.CanceledError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ce) {
		t.Errorf("expect a *smithy.CanceledError for the deadline, got %v", err)
	}
}

func isTruncatedBody(t *testing.T, err error) {
	t.Helper()
	var de *smithy.DeserializationError
	if !errors.As(err, &de) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("expect a *smithy.DeserializationError of io.ErrUnexpectedEOF, got %v", err)
	}
}

// callTimeout returns the deadline of a call under mode: shorter than the
// SlowAfter delay for SlowAfter, and long enough for a server under load for
// the others (500 ms was not, for moto in CI).
func callTimeout(mode Mode) time.Duration {
	if mode == SlowAfter {
		return 500 * time.Millisecond
	}
	return 30 * time.Second
}

// TestIntegPassThrough checks that S3, SQS and SNS work through the proxy
// unchanged: SigV4 still verifies (the servers check it), bodies arrive
// intact, and the proxy names every operation.
func TestIntegPassThrough(t *testing.T) {
	it := newInteg(t)
	ctx := context.Background()
	s3c, sqsc, snsc := it.s3(it.s3p, 1), it.sqs(1), it.sns(1)

	// A key that needs escaping, and a body over the 2 MB from which the SDK
	// sends Expect: 100-continue.
	key := "dir/a b+c=d&e%f.txt"
	body := blobBytes(3 << 20)
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &it.bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &it.bucket, Key: &key})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GetObject: expect the body back, got %d bytes, %v", len(got), err)
	}

	// Multipart, with a part failing once after it landed: the SDK retries
	// it and the upload completes.
	it.s3p.Inject(S3("UploadPart"), ErrorAfter, 1)
	mkey := "multipart"
	parts := [][]byte{blobBytes(5 << 20), []byte("tail")}
	if err := multipartUpload(ctx, it.s3(it.s3p, 0), it.bucket, mkey, parts); err != nil {
		t.Fatalf("multipart upload: %v", err)
	}
	out, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &it.bucket, Key: &mkey})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err = io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, bytes.Join(parts, nil)) {
		t.Errorf("GetObject multipart: expect the parts back, got %d bytes, %v", len(got), err)
	}
	if _, err := s3c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &it.bucket, Delete: &s3types.Delete{
		Objects: []s3types.ObjectIdentifier{{Key: &key}, {Key: &mkey}},
	}}); err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}

	// SNS to SQS, and SQS itself.
	queue := it.env.Queue(t, false, nil)
	topic := it.env.Topic(t, false)
	it.env.Subscribe(t, topic, queue, true)
	if _, err := snsc.Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String("via sns")}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if _, err := sqsc.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue, MessageBody: aws.String("via sqs")}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	msgs := testenv.ReceiveAll(t, sqsc, &sqs.ReceiveMessageInput{QueueUrl: &queue}, 2, 10*time.Second)
	for _, m := range msgs {
		if _, err := sqsc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &queue, ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Errorf("DeleteMessage: %v", err)
		}
	}

	s3st, sqsst := it.s3p.Stats(), it.sqsp.Stats()
	for _, c := range []struct {
		st   Stats
		op   string
		mode Mode
		n    int64
	}{
		{s3st, "s3:PutObject", None, 1},
		{s3st, "s3:GetObject", None, 2},
		{s3st, "s3:CreateMultipartUpload", None, 1},
		{s3st, "s3:UploadPart", ErrorAfter, 1},
		{s3st, "s3:UploadPart", None, 2},
		{s3st, "s3:CompleteMultipartUpload", None, 1},
		{s3st, "s3:DeleteObjects", None, 1},
		{sqsst, "sns:Publish", None, 1},
		{sqsst, "sqs:SendMessage", None, 1},
		{sqsst, "sqs:DeleteMessage", None, 2},
	} {
		if got := c.st.Ops[c.op][c.mode]; got != c.n {
			t.Errorf("expect %d %s with %v, got %d in\n%v", c.n, c.op, c.mode, got, c.st)
		}
	}
	if s3st.UpstreamErrors+sqsst.UpstreamErrors != 0 {
		t.Errorf("expect no upstream errors:\n%v\n%v", s3st, sqsst)
	}
}

func multipartUpload(ctx context.Context, c *s3.Client, bucket, key string, parts [][]byte) error {
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return err
	}
	var done []s3types.CompletedPart
	for i, p := range parts {
		n := int32(i + 1)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: up.UploadId, PartNumber: &n, Body: bytes.NewReader(p)})
		if err != nil {
			return err
		}
		done = append(done, s3types.CompletedPart{ETag: out.ETag, PartNumber: &n})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &bucket, Key: &key, UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: done},
	})
	return err
}

// TestIntegStreaming puts and gets a 100 MiB object through the proxy and
// checks that the process's heap stays far below the object's size.
func TestIntegStreaming(t *testing.T) {
	it := newInteg(t)
	ctx := context.Background()
	const size = 100 << 20
	s3c := it.s3(it.s3p, 1)
	src := io.NewSectionReader(blobReaderAt{}, 0, size)

	peak, stop := sampleHeap()
	defer stop()
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &it.bucket, Key: aws.String("big"), Body: src}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &it.bucket, Key: aws.String("big")})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	out.Body.Close()
	if err != nil || n != size {
		t.Fatalf("GetObject: expect %d bytes, got %d, %v", size, n, err)
	}
	want := sha256.New()
	io.Copy(want, io.NewSectionReader(blobReaderAt{}, 0, size))
	if !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Error("GetObject: the object came back different")
	}
	stop()
	t.Logf("heap peak %d MiB for a %d MiB object", *peak>>20, size>>20)
	if *peak > size/2 {
		t.Errorf("expect the heap to stay under %d MiB, peaked at %d MiB", size>>21, *peak>>20)
	}
}

// blobReaderAt reads a byte pattern of unbounded length without memory.
type blobReaderAt struct{}

func (blobReaderAt) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		o := off + int64(i)
		p[i] = byte(o*7 + o/251)
	}
	return len(p), nil
}

// sampleHeap records the largest HeapAlloc seen until stop is called.
func sampleHeap() (peak *uint64, stop func()) {
	peak = new(uint64)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, ms.HeapAlloc)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return peak, func() { once.Do(func() { close(done); wg.Wait() }) }
}

// TestIntegSQSFaults checks, with the SDK's retries off, what SendMessage
// returns under each fault and whether the message landed anyway.
func TestIntegSQSFaults(t *testing.T) {
	it := newInteg(t)
	cases := []struct {
		mode   Mode
		landed bool
		check  func(t *testing.T, err error)
	}{
		{ErrorBefore, false, isAPIError("ServiceUnavailable", 503)},
		{ResetBefore, false, isSendError},
		{Forbidden, false, isAPIError("AccessDenied", 403)},
		{ErrorAfter, true, isAPIError("InternalError", 500)},
		{ResetAfter, true, isSendError},
		{SlowAfter, true, isDeadline},
		{Truncate, true, isTruncatedBody},
	}
	c := it.sqs(1)
	for _, tc := range cases {
		t.Run(tc.mode.String(), func(t *testing.T) {
			queue := it.env.Queue(t, false, nil)
			it.sqsp.Inject(SQS("SendMessage"), tc.mode, 1)
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout(tc.mode))
			defer cancel()
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &queue, MessageBody: aws.String("m")})
			tc.check(t, err)
			want := 0
			if tc.landed {
				want = 1
			}
			if got := it.depth(t, queue); got != want {
				t.Errorf("expect %d messages in the queue, got %d", want, got)
			}
		})
	}
}

// TestIntegDefaultRetryer checks how many attempts the SDK's default retryer
// makes under each fault, and so how many copies of a message it leaves.
func TestIntegDefaultRetryer(t *testing.T) {
	it := newInteg(t)
	cases := []struct {
		mode     Mode
		attempts int
		copies   int
	}{
		{ErrorBefore, 3, 0},
		{ResetBefore, 3, 0},
		{ErrorAfter, 3, 3},
		{ResetAfter, 3, 3},
		{Truncate, 1, 1}, // a body that breaks off is a deserialization error, not retried
		{Forbidden, 1, 0},
	}
	c := it.sqs(0)
	for _, tc := range cases {
		t.Run(tc.mode.String(), func(t *testing.T) {
			queue := it.env.Queue(t, false, nil)
			const n = 5
			it.sqsp.Inject(SQS("SendMessage"), tc.mode, n)
			_, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &queue, MessageBody: aws.String("m")})
			if err == nil {
				t.Error("expect an error")
			}
			if got := n - it.sqsp.ClearPending(); got != tc.attempts {
				t.Errorf("expect %d attempts, got %d (%v)", tc.attempts, got, err)
			}
			if got := it.depth(t, queue); got != tc.copies {
				t.Errorf("expect %d copies in the queue, got %d", tc.copies, got)
			}
		})
	}
}

// TestIntegS3Faults checks what GetObject and PutObject return under the
// faults meant for them.
func TestIntegS3Faults(t *testing.T) {
	it := newInteg(t)
	ctx := context.Background()
	body := blobBytes(1 << 20)
	if _, err := it.env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &it.bucket, Key: aws.String("obj"), Body: bytes.NewReader(body),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32c}); err != nil {
		t.Fatal(err)
	}
	get := func(c *s3.Client) ([]byte, error, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &it.bucket, Key: aws.String("obj"), ChecksumMode: s3types.ChecksumModeEnabled})
		if err != nil {
			return nil, err, nil
		}
		defer out.Body.Close()
		b, rerr := io.ReadAll(out.Body)
		return b, nil, rerr
	}

	t.Run("GetObject BitFlip", func(t *testing.T) {
		// The SDK checks the CRC32C stored with the object: the whole
		// (corrupt) body is read, and the error comes at its end.
		it.s3p.Inject(S3("GetObject"), BitFlip, 1)
		got, err, rerr := get(it.s3(it.s3p, 0))
		if err != nil || len(got) != len(body) || bitDiff(got, body) != 1 {
			t.Fatalf("expect the corrupt body, got %d bytes, %v", len(got), err)
		}
		if rerr == nil || errors.Is(rerr, io.ErrUnexpectedEOF) {
			t.Errorf("expect the SDK's checksum error at the end of the body, got %v", rerr)
		}
	})
	t.Run("GetObject Truncate", func(t *testing.T) {
		// The body streams to the caller, so the SDK cannot retry it.
		it.s3p.Inject(S3("GetObject"), Truncate, 1)
		got, err, rerr := get(it.s3(it.s3p, 0))
		if err != nil || !errors.Is(rerr, io.ErrUnexpectedEOF) || !bytes.Equal(got, body[:len(got)]) {
			t.Errorf("expect a prefix of the body and io.ErrUnexpectedEOF, got %d bytes, %v, %v", len(got), err, rerr)
		}
	})
	t.Run("GetObject Forbidden", func(t *testing.T) {
		before := it.s3p.Stats().Requests
		it.s3p.Inject(S3("GetObject"), Forbidden, 1)
		_, err, _ := get(it.s3(it.s3p, 0))
		isAPIError("AccessDenied", 403)(t, err)
		if got := it.s3p.Stats().Requests - before; got != 1 {
			t.Errorf("expect no retry of a 403, got %d attempts", got)
		}
	})
	t.Run("GetObject ErrorBefore retried", func(t *testing.T) {
		before := it.s3p.Stats().Requests
		it.s3p.Inject(S3("GetObject"), ErrorBefore, 2)
		got, err, rerr := get(it.s3(it.s3p, 0))
		if err != nil || rerr != nil || !bytes.Equal(got, body) {
			t.Errorf("expect the third attempt to succeed, got %v, %v", err, rerr)
		}
		if got := it.s3p.Stats().Requests - before; got != 3 {
			t.Errorf("expect 3 attempts, got %d", got)
		}
	})
	t.Run("GetObject ResetAfter on a reused connection", func(t *testing.T) {
		// Go's transport retries a GET whose reused connection died before
		// answering, without the SDK knowing: the call succeeds even with
		// the SDK's retries off. Two resets get through, as the second
		// attempt is on a new connection.
		c := it.s3(it.s3p, 1)
		if _, err, rerr := get(c); err != nil || rerr != nil {
			t.Fatal(err, rerr)
		}
		before := it.s3p.Stats().Requests
		it.s3p.Inject(S3("GetObject"), ResetAfter, 1)
		if _, err, rerr := get(c); err != nil || rerr != nil {
			t.Errorf("expect the transport's retry to succeed, got %v, %v", err, rerr)
		}
		if got := it.s3p.Stats().Requests - before; got != 2 {
			t.Errorf("expect 2 requests for one attempt, got %d", got)
		}
		it.s3p.Inject(S3("GetObject"), ResetAfter, 2)
		_, err, _ := get(c)
		isSendError(t, err)
	})
	t.Run("PutObject", func(t *testing.T) {
		c := it.s3(it.s3p, 1)
		for _, tc := range []struct {
			mode   Mode
			landed bool
			check  func(*testing.T, error)
		}{
			{ErrorBefore, false, isAPIError("ServiceUnavailable", 503)},
			{Forbidden, false, isAPIError("AccessDenied", 403)},
			{ErrorAfter, true, isAPIError("InternalError", 500)},
			{ResetAfter, true, isSendError},
			{Truncate, true, isSendError}, // no body: the header block breaks off
			{SlowAfter, true, isDeadline},
		} {
			key := "put-" + tc.mode.String()
			it.s3p.Inject(S3("PutObject"), tc.mode, 1)
			ctx, cancel := context.WithTimeout(ctx, callTimeout(tc.mode))
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &it.bucket, Key: &key, Body: bytes.NewReader(body)})
			cancel()
			t.Run(tc.mode.String(), func(t *testing.T) {
				tc.check(t, err)
				if got := it.exists(t, key); got != tc.landed {
					t.Errorf("expect the object stored %v, got %v", tc.landed, got)
				}
			})
		}
	})
}

// TestIntegSNSFaults checks that SNS operations are matched through their
// form bodies and what Publish returns.
func TestIntegSNSFaults(t *testing.T) {
	it := newInteg(t)
	topic := it.env.Topic(t, false)
	ctx := context.Background()
	publish := func(c *sns.Client) error {
		_, err := c.Publish(ctx, &sns.PublishInput{TopicArn: &topic, Message: aws.String("m")})
		return err
	}

	it.sqsp.Inject(SNS("Publish"), ErrorBefore, 1)
	isAPIError("ServiceUnavailable", 503)(t, publish(it.sns(1)))

	it.sqsp.Inject(SNS("Publish"), ErrorAfter, 1)
	var ie *snstypes.InternalErrorException
	if err := publish(it.sns(1)); !errors.As(err, &ie) {
		t.Errorf("expect *types.InternalErrorException, got %v", err)
	}

	it.sqsp.Inject(SNS("Publish"), Forbidden, 1)
	var ae *snstypes.AuthorizationErrorException
	if err := publish(it.sns(0)); !errors.As(err, &ae) {
		t.Errorf("expect *types.AuthorizationErrorException, got %v", err)
	}

	before := it.sqsp.Stats().Requests
	it.sqsp.Inject(SNS("Publish"), ResetAfter, 1)
	if err := publish(it.sns(0)); err != nil {
		t.Errorf("expect the SDK's retry to succeed, got %v", err)
	}
	if got := it.sqsp.Stats().Requests - before; got != 2 {
		t.Errorf("expect 2 attempts, got %d", got)
	}
	if st := it.sqsp.Stats(); st.Ops["sns:Publish"][ErrorBefore] != 1 || st.Ops["sns:Publish"][ResetAfter] != 1 {
		t.Errorf("expect the faults counted under sns:Publish:\n%v", st)
	}
}
