package sqsx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

// sentMessage returns the input of the only SendMessage call.
func (e *testEnv) sentMessage(t *testing.T) *sqs.SendMessageInput {
	t.Helper()
	ins := sqsxtest.Params[*sqs.SendMessageInput](e.log)
	if len(ins) != 1 {
		t.Fatalf("expect 1 SendMessage call, got %v", len(ins))
	}
	return ins[0]
}

// uploaded returns the inputs of the PutObject calls.
func (e *testEnv) uploaded() []*s3.PutObjectInput {
	return sqsxtest.Params[*s3.PutObjectInput](e.log)
}

func TestSendMessageThreshold(t *testing.T) {
	cases := map[string]struct {
		body      string
		attrs     map[string]types.MessageAttributeValue
		offloaded bool
	}{
		"at threshold": {body: strings.Repeat("a", 262144)},
		"one above":    {body: strings.Repeat("a", 262145), offloaded: true},
		"small":        {body: "hello"},
		"empty attrs":  {body: strings.Repeat("a", 262144), attrs: map[string]types.MessageAttributeValue{}},
		"string attribute at threshold": {
			// "k" + "String" + "xyz" = 10 bytes.
			body:  strings.Repeat("a", 262144-10),
			attrs: map[string]types.MessageAttributeValue{"k": stringAttr("xyz")},
		},
		"string attribute one above": {
			body:      strings.Repeat("a", 262144-9),
			attrs:     map[string]types.MessageAttributeValue{"k": stringAttr("xyz")},
			offloaded: true,
		},
		"binary attribute one above": {
			// "bin" + "Binary" + 5 bytes = 14 bytes.
			body: strings.Repeat("a", 262144-13),
			attrs: map[string]types.MessageAttributeValue{
				"bin": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3, 4, 5}},
			},
			offloaded: true,
		},
		"multi-byte attribute name and value": {
			// "ü" (2) + "String" (6) + "€" (3) = 11 bytes.
			body:      strings.Repeat("a", 262144-10),
			attrs:     map[string]types.MessageAttributeValue{"ü": stringAttr("€")},
			offloaded: true,
		},
		"multi-byte body at threshold":      {body: strings.Repeat("é", 131072)},
		"multi-byte body one above":         {body: strings.Repeat("é", 131072) + "a", offloaded: true},
		"three-byte runes under bytes":      {body: strings.Repeat("€", 87381) + "a"}, // 262144 bytes
		"three-byte runes above bytes":      {body: strings.Repeat("€", 87382), offloaded: true},
		"runes under threshold, bytes over": {body: strings.Repeat("€", 100000), offloaded: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			in := &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(tc.body), MessageAttributes: tc.attrs}
			out, err := e.client.SendMessage(context.Background(), in)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if out == nil || aws.ToString(out.MessageId) == "" {
				t.Fatalf("expect a MessageId, got %+v", out)
			}
			if tc.offloaded {
				e.expectCalls(t, "PutObject", "SendMessage")
				e.expectObjects(t, 1)
				return
			}
			e.expectCalls(t, "SendMessage")
			e.expectObjects(t, 0)
			if got := e.sentMessage(t); got != in {
				t.Errorf("expect the caller's params passed through, got a different input")
			}
		})
	}
}

func TestSendMessageWireFormat(t *testing.T) {
	body := strings.Repeat("é", 131073) // 262146 bytes, 131073 runes
	e := newTestEnv(t)
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(testQueueURL),
		MessageBody:       aws.String(body),
		MessageAttributes: map[string]types.MessageAttributeValue{"color": stringAttr("blue")},
		DelaySeconds:      0,
	}
	if _, err := e.client.SendMessage(context.Background(), in); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "PutObject", "SendMessage")

	puts := e.uploaded()
	bucket, key := aws.ToString(puts[0].Bucket), aws.ToString(puts[0].Key)
	if bucket != testBucket {
		t.Errorf("expect bucket %v, got %v", testBucket, bucket)
	}
	if _, err := uuid.Parse(key); err != nil || len(key) != 36 {
		t.Errorf("expect a UUID key, got %q (%v)", key, err)
	}
	if got := aws.ToInt64(puts[0].ContentLength); got != int64(len(body)) {
		t.Errorf("expect ContentLength %v, got %v", len(body), got)
	}
	stored, ok := e.s3.Object(bucket, key)
	if !ok || string(stored) != body {
		t.Errorf("expect the stored object to be the body as it is (%v bytes), got %v bytes", len(body), len(stored))
	}

	sent := e.sentMessage(t)
	want, err := payload.EncodePointer(payload.Pointer{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(sent.MessageBody); got != want {
		t.Errorf("expect body %v, got %v", want, got)
	}
	if got := aws.ToString(sent.MessageBody); got != javaPointer(bucket, key) {
		t.Errorf("expect the Java compact form %v, got %v", javaPointer(bucket, key), got)
	}
	wantAttrs := map[string]types.MessageAttributeValue{
		"color":               stringAttr("blue"),
		"ExtendedPayloadSize": numberAttr(262146),
	}
	if diff := cmp.Diff(wantAttrs, sent.MessageAttributes, awsCmp); diff != "" {
		t.Errorf("sent attributes mismatch (-want +got):\n%s", diff)
	}
	if aws.ToString(sent.QueueUrl) != testQueueURL {
		t.Errorf("expect QueueUrl %v, got %v", testQueueURL, aws.ToString(sent.QueueUrl))
	}
}

func TestSendMessageAttributeName(t *testing.T) {
	cases := map[string]struct {
		name        string
		want, other string
	}{
		"default": {"", AttributeName, LegacyAttributeName},
		"current": {AttributeName, AttributeName, LegacyAttributeName},
		"legacy":  {LegacyAttributeName, LegacyAttributeName, AttributeName},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.AttributeName = tc.name })
			_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
				QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", 300000)),
			})
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			attrs := e.sentMessage(t).MessageAttributes
			if diff := cmp.Diff(numberAttr(300000), attrs[tc.want], awsCmp); diff != "" {
				t.Errorf("attribute %v mismatch (-want +got):\n%s", tc.want, diff)
			}
			if _, ok := attrs[tc.other]; ok {
				t.Errorf("expect no %v attribute, got one", tc.other)
			}
		})
	}
}

func TestSendMessageAlwaysThroughS3(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.AlwaysThroughS3 = true })
	_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageBody: aws.String("x"),
	})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "PutObject", "SendMessage")
	e.expectObjects(t, 1)
	if got := e.sentMessage(t).MessageAttributes[AttributeName]; aws.ToString(got.StringValue) != "1" {
		t.Errorf("expect size attribute 1, got %v", aws.ToString(got.StringValue))
	}
}

func TestSendMessageKeyPrefix(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.KeyPrefix = "payloads/2025_" })
	_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", 300000)),
	})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	key := aws.ToString(e.uploaded()[0].Key)
	rest, ok := strings.CutPrefix(key, "payloads/2025_")
	if !ok {
		t.Fatalf("expect key with prefix payloads/2025_, got %v", key)
	}
	if _, err := uuid.Parse(rest); err != nil {
		t.Errorf("expect a UUID after the prefix, got %q", rest)
	}
	p, err := payload.DecodePointer(aws.ToString(e.sentMessage(t).MessageBody))
	if err != nil || p.Key != key {
		t.Errorf("expect the pointer to name %v, got %v (%v)", key, p.Key, err)
	}
}

func TestSendMessageDoesNotModifyInput(t *testing.T) {
	cases := map[string]string{
		"offloaded":     strings.Repeat("x", 300000),
		"not offloaded": "small",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.ThresholdFromQueue = true })
			bodyPtr := aws.String(body)
			attrs := map[string]types.MessageAttributeValue{"a": stringAttr("1"), "b": numberAttr(2)}
			in := &sqs.SendMessageInput{QueueUrl: aws.String(testFIFOURL), MessageBody: bodyPtr, MessageAttributes: attrs, MessageGroupId: aws.String("g")}
			e.sqs.SetAttributes(testFIFOURL, map[string]string{"ContentBasedDeduplication": "true"})
			before := deepCopy(t, in)
			if _, err := e.client.SendMessage(context.Background(), in); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			expectUnchanged(t, before, in)
			if in.MessageBody != bodyPtr {
				t.Errorf("expect the body pointer kept, got it replaced")
			}
			if len(attrs) != 2 {
				t.Errorf("expect the caller's map to keep 2 attributes, got %v", len(attrs))
			}
			if in.MessageDeduplicationId != nil {
				t.Errorf("expect MessageDeduplicationId left nil, got %v", aws.ToString(in.MessageDeduplicationId))
			}
		})
	}
}

func TestSendMessageInputErrors(t *testing.T) {
	large := strings.Repeat("x", 300000)
	cases := map[string]struct {
		opts   func(*Options)
		in     *sqs.SendMessageInput
		field  string
		target error
	}{
		"reserved attribute": {
			in: &sqs.SendMessageInput{MessageBody: aws.String("hi"),
				MessageAttributes: map[string]types.MessageAttributeValue{"ExtendedPayloadSize": numberAttr(2)}},
			field: `MessageAttributes["ExtendedPayloadSize"]`, target: ErrReservedAttribute,
		},
		"legacy reserved attribute on a large message": {
			in: &sqs.SendMessageInput{MessageBody: aws.String(large),
				MessageAttributes: map[string]types.MessageAttributeValue{"SQSLargePayloadSize": numberAttr(2)}},
			field: `MessageAttributes["SQSLargePayloadSize"]`, target: ErrReservedAttribute,
		},
		"empty body": {
			in:    &sqs.SendMessageInput{MessageBody: aws.String("")},
			field: "MessageBody", target: ErrEmptyBody,
		},
		"nil body": {
			in:    &sqs.SendMessageInput{},
			field: "MessageBody", target: ErrEmptyBody,
		},
		"nil params": {
			in:    nil,
			field: "MessageBody", target: ErrEmptyBody,
		},
		"10 attributes on an offloaded message": {
			in:    &sqs.SendMessageInput{MessageBody: aws.String(large), MessageAttributes: nAttrs(10)},
			field: "MessageAttributes", target: ErrTooManyAttributes,
		},
		"10 attributes with AlwaysThroughS3": {
			opts:  func(o *Options) { o.AlwaysThroughS3 = true },
			in:    &sqs.SendMessageInput{MessageBody: aws.String("x"), MessageAttributes: nAttrs(10)},
			field: "MessageAttributes", target: ErrTooManyAttributes,
		},
		"no bucket": {
			opts:  func(o *Options) { o.Bucket = "" },
			in:    &sqs.SendMessageInput{MessageBody: aws.String(large)},
			field: "MessageBody", target: ErrNoBucket,
		},
		"attributes alone above the threshold": {
			opts: func(o *Options) { o.Threshold = 100 },
			in: &sqs.SendMessageInput{MessageBody: aws.String("x"),
				MessageAttributes: map[string]types.MessageAttributeValue{"big": stringAttr(strings.Repeat("v", 100))}},
			field: "MessageAttributes", target: ErrAttributesTooLarge,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			opts := []func(*Options){}
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			e := newTestEnv(t, opts...)
			if tc.in != nil {
				tc.in.QueueUrl = aws.String(testQueueURL)
			}
			out, err := e.client.SendMessage(context.Background(), tc.in)
			if out != nil {
				t.Errorf("expect nil output, got %+v", out)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("expect *InputError, got %T %v", err, err)
			}
			if ie.Op != "SendMessage" {
				t.Errorf("expect Op SendMessage, got %v", ie.Op)
			}
			if ie.Field != tc.field {
				t.Errorf("expect Field %v, got %v", tc.field, ie.Field)
			}
			if !errors.Is(err, tc.target) {
				t.Errorf("expect errors.Is(err, %v), got %v", tc.target, err)
			}
			e.expectCalls(t)
			e.expectObjects(t, 0)
		})
	}
}

func TestSendMessageNineAttributesOffloaded(t *testing.T) {
	e := newTestEnv(t)
	_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", 300000)), MessageAttributes: nAttrs(9),
	})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "PutObject", "SendMessage")
	if got := len(e.sentMessage(t).MessageAttributes); got != 10 {
		t.Errorf("expect 10 attributes on the wire (9 + size), got %v", got)
	}
}

func TestSendMessageSQSFailureDeletesPayload(t *testing.T) {
	e := newTestEnv(t)
	injected := &types.QueueDoesNotExist{Message: aws.String("no such queue")}
	e.sqs.SendMessageFn = func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error) { return nil, injected }
	out, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", 300000)),
	})
	if out != nil {
		t.Errorf("expect nil output, got %+v", out)
	}
	var qne *types.QueueDoesNotExist
	if !errors.As(err, &qne) || qne != injected {
		t.Errorf("expect the injected SQS error, got %T %v", err, err)
	}
	e.expectCalls(t, "PutObject", "SendMessage", "DeleteObject")
	e.expectObjects(t, 0)
	del := sqsxtest.Params[*s3.DeleteObjectInput](e.log)[0]
	put := e.uploaded()[0]
	if aws.ToString(del.Key) != aws.ToString(put.Key) || aws.ToString(del.Bucket) != aws.ToString(put.Bucket) {
		t.Errorf("expect the uploaded object deleted, got %v/%v", aws.ToString(del.Bucket), aws.ToString(del.Key))
	}
}

func TestSendMessageUploadFailure(t *testing.T) {
	e := newTestEnv(t)
	e.s3.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "denied", Fault: smithy.FaultClient}
	}
	_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", 300000)),
	})
	var pe *PayloadError
	if !errors.As(err, &pe) || pe.Op != "PutObject" || pe.Bucket != testBucket || pe.Key == "" {
		t.Fatalf("expect a *PayloadError for PutObject naming the object, got %T %v", err, err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("expect the S3 error reachable, got %v", err)
	}
	e.expectCalls(t, "PutObject")
}

func TestSendMessageOptFnsPassedThrough(t *testing.T) {
	cases := map[string]string{
		"offloaded":     strings.Repeat("x", 300000),
		"not offloaded": "small",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) {
				o.S3ClientOptions = []func(*s3.Options){func(o *s3.Options) { o.Region = "s3-region" }}
			})
			_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
				QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(body),
			}, func(o *sqs.Options) { o.Region = "sqs-region" }, func(o *sqs.Options) { o.AppID = "app" })
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			for _, c := range e.log.Records() {
				switch o := c.Options.(type) {
				case sqs.Options:
					// The caller's two and the user-agent key, plus the
					// library's own that watches the attempts of an
					// offloaded send.
					want := 3
					if len(body) > DefaultThreshold {
						want = 4
					}
					if c.OptFns != want || o.Region != "sqs-region" || o.AppID != "app" {
						t.Errorf("expect both optFns passed to %v, got %v (region %q)", c.Op, c.OptFns, o.Region)
					}
				case s3.Options:
					if c.OptFns < 1 || o.Region != "s3-region" {
						t.Errorf("expect S3ClientOptions passed to %v, got %v (region %q)", c.Op, c.OptFns, o.Region)
					}
				}
			}
		})
	}
}

func TestSendMessageThresholdFromQueue(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.ThresholdFromQueue = true })
	e.sqs.SetAttributes(testQueueURL, map[string]string{"MaximumMessageSize": "1024"})
	for _, tc := range []struct {
		size      int
		offloaded bool
	}{{1024, false}, {1025, true}, {10, false}, {5000, true}} {
		puts := e.log.Count("PutObject")
		_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", tc.size)),
		})
		if err != nil {
			t.Fatalf("size %v: expect no error, got %v", tc.size, err)
		}
		if got := e.log.Count("PutObject") > puts; got != tc.offloaded {
			t.Errorf("size %v: expect offloaded %v, got %v", tc.size, tc.offloaded, got)
		}
	}
	if got := e.log.Count("GetQueueAttributes"); got != 1 {
		t.Errorf("expect the queue's attributes read once, got %v GetQueueAttributes calls", got)
	}
}

func TestSendMessageThresholdFromQueueReadOnce(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.ThresholdFromQueue = true })
	queues := []string{testQueueURL + "-1", testQueueURL + "-2", testQueueURL + "-3"}
	for _, q := range queues {
		e.sqs.SetAttributes(q, map[string]string{"MaximumMessageSize": "2048"})
	}
	// All senders start at once; the lookup is instant, so some senders miss
	// the cache just as a lookup completes, and must find the cached value
	// inside the shared lookup rather than read the attributes again.
	e.sqs.GetQueueAttributesFn = func(*sqs.GetQueueAttributesInput) (*sqs.GetQueueAttributesOutput, error) {
		return nil, nil
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
				QueueUrl: aws.String(queues[i%3]), MessageBody: aws.String(strings.Repeat("x", 2000+i%2*100)),
			})
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("expect no error, got %v", err)
		}
	}
	perQueue := map[string]int{}
	for _, in := range sqsxtest.Params[*sqs.GetQueueAttributesInput](e.log) {
		perQueue[aws.ToString(in.QueueUrl)]++
		if !cmp.Equal(in.AttributeNames, []types.QueueAttributeName{"MaximumMessageSize", "ContentBasedDeduplication"}) {
			t.Errorf("expect MaximumMessageSize and ContentBasedDeduplication asked for, got %v", in.AttributeNames)
		}
	}
	for _, q := range queues {
		if perQueue[q] != 1 {
			t.Errorf("expect 1 GetQueueAttributes call for %v, got %v", q, perQueue[q])
		}
	}
	if got := e.log.Count("PutObject"); got != 30 {
		t.Errorf("expect 30 offloaded messages (2100 > 2048), got %v", got)
	}
}

func TestSendMessageThresholdFromQueueErrorNotCached(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.ThresholdFromQueue = true })
	injected := &types.QueueDoesNotExist{}
	fail := true
	e.sqs.GetQueueAttributesFn = func(*sqs.GetQueueAttributesInput) (*sqs.GetQueueAttributesOutput, error) {
		if fail {
			return nil, injected
		}
		return nil, nil
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL), MessageBody: aws.String("x")}
	_, err := e.client.SendMessage(context.Background(), in)
	var qne *types.QueueDoesNotExist
	if !errors.As(err, &qne) {
		t.Fatalf("expect the GetQueueAttributes error, got %v", err)
	}
	e.expectCalls(t, "GetQueueAttributes")
	fail = false
	if _, err := e.client.SendMessage(context.Background(), in); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "GetQueueAttributes", "GetQueueAttributes", "SendMessage")
}

func TestSendMessageFIFOContentDeduplication(t *testing.T) {
	large := strings.Repeat("x", 300000)
	sum := sha256.Sum256([]byte(large))
	contentID := hex.EncodeToString(sum[:])
	cases := map[string]struct {
		contentDedup string
		givenID      *string
		body         string
		wantID       *string
		wantCalls    []string
	}{
		"offloaded, content deduplication": {
			contentDedup: "true", body: large, wantID: aws.String(contentID),
			wantCalls: []string{"PutObject", "GetQueueAttributes", "SendMessage"},
		},
		"offloaded, caller's id kept": {
			contentDedup: "true", body: large, givenID: aws.String("mine"), wantID: aws.String("mine"),
			wantCalls: []string{"PutObject", "SendMessage"},
		},
		"offloaded, no content deduplication": {
			contentDedup: "false", body: large, givenID: aws.String("mine"), wantID: aws.String("mine"),
			wantCalls: []string{"PutObject", "SendMessage"},
		},
		"not offloaded": {
			contentDedup: "true", body: "small",
			wantCalls: []string{"SendMessage"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			e.sqs.SetAttributes(testFIFOURL, map[string]string{"ContentBasedDeduplication": tc.contentDedup})
			_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
				QueueUrl: aws.String(testFIFOURL), MessageBody: aws.String(tc.body),
				MessageGroupId: aws.String("g"), MessageDeduplicationId: tc.givenID,
			})
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			e.expectCalls(t, tc.wantCalls...)
			if got := e.sentMessage(t).MessageDeduplicationId; aws.ToString(got) != aws.ToString(tc.wantID) {
				t.Errorf("expect MessageDeduplicationId %v, got %v", aws.ToString(tc.wantID), aws.ToString(got))
			}
		})
	}
}

func TestSendMessageFIFOResendIsDeduplicated(t *testing.T) {
	e := newTestEnv(t)
	e.sqs.SetAttributes(testFIFOURL, map[string]string{"ContentBasedDeduplication": "true"})
	in := &sqs.SendMessageInput{QueueUrl: aws.String(testFIFOURL), MessageBody: aws.String(strings.Repeat("x", 300000)), MessageGroupId: aws.String("g")}
	out1, err := e.client.SendMessage(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	out2, err := e.client.SendMessage(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out1.MessageId) != aws.ToString(out2.MessageId) || e.sqs.Len(testFIFOURL) != 1 {
		t.Errorf("expect the resend deduplicated by SQS, got %v messages", e.sqs.Len(testFIFOURL))
	}
	if got := e.log.Count("GetQueueAttributes"); got != 1 {
		t.Errorf("expect the queue's attributes read once, got %v", got)
	}
}

func TestSendMessageContextCanceled(t *testing.T) {
	t.Run("before the call", func(t *testing.T) {
		e := newTestEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		out, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", 300000)),
		})
		if out != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("expect nil output and context.Canceled, got %v, %v", out, err)
		}
		e.expectObjects(t, 0)
		if e.sqs.Len(testQueueURL) != 0 {
			t.Errorf("expect nothing sent")
		}
	})
	t.Run("after the upload", func(t *testing.T) {
		e := newTestEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e.s3.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) {
			cancel()
			return nil, nil // store it
		}
		_, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", 300000)),
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("expect context.Canceled, got %v", err)
		}
		// Cancelled before SQS was called: the upload is deleted.
		e.expectCalls(t, "PutObject", "DeleteObject")
		e.expectObjects(t, 0)
	})
}

// TestQueueLookupSurvivesFirstCallerCancel: a caller that joins a queue lookup
// started by another must not fail when the first caller gives up.
func TestQueueLookupSurvivesFirstCallerCancel(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.ThresholdFromQueue = true })
	e.sqs.SetAttributes(testQueueURL, map[string]string{"MaximumMessageSize": "2048"})
	started, release := make(chan struct{}), make(chan struct{})
	e.sqs.GetQueueAttributesFn = func(*sqs.GetQueueAttributesInput) (*sqs.GetQueueAttributesOutput, error) {
		close(started)
		<-release
		return nil, nil
	}
	send := func(ctx context.Context) error {
		_, err := e.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(testQueueURL), MessageBody: aws.String("x")})
		return err
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	errA := make(chan error, 1)
	go func() { errA <- send(ctxA) }()
	<-started
	errB := make(chan error, 1)
	go func() { errB <- send(context.Background()) }()
	time.Sleep(20 * time.Millisecond) // let B join the lookup
	cancelA()
	if err := <-errA; !errors.Is(err, context.Canceled) {
		t.Errorf("expect the cancelled caller to get context.Canceled, got %v", err)
	}
	close(release)
	if err := <-errB; err != nil {
		t.Errorf("expect the other caller to succeed, got %v", err)
	}
	if got := e.log.Count("GetQueueAttributes"); got != 1 {
		t.Errorf("expect 1 GetQueueAttributes call, got %v", got)
	}
}

// TestSendMessageWireSizeChecked: attributes that leave no room for the
// pointer and the size attribute are refused before anything is uploaded.
func TestSendMessageWireSizeChecked(t *testing.T) {
	e := newTestEnv(t)
	attrs := map[string]types.MessageAttributeValue{"big": stringAttr(strings.Repeat("v", DefaultThreshold-100))}
	_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(testQueueURL), MessageBody: aws.String(strings.Repeat("x", 1000)), MessageAttributes: attrs,
	})
	var ie *InputError
	if !errors.As(err, &ie) || !errors.Is(err, ErrAttributesTooLarge) || ie.Field != "MessageAttributes" {
		t.Fatalf("expect an *InputError for MessageAttributes wrapping ErrAttributesTooLarge, got %v", err)
	}
	e.expectCalls(t)
}
