package snsx_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
	"github.com/sqsx/sqsx/sqsxtest"
)

// published returns the input of the only Publish call.
func (e *testEnv) published(t *testing.T) *sns.PublishInput {
	t.Helper()
	ins := sqsxtest.Params[*sns.PublishInput](e.log)
	if len(ins) != 1 {
		t.Fatalf("expect 1 Publish call, got %v", len(ins))
	}
	return ins[0]
}

// deepCopy returns an independent copy of v (SDK inputs survive a JSON round
// trip), to check later that v was not modified.
func deepCopy[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var c T
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPublishThreshold(t *testing.T) {
	cases := map[string]struct {
		msg       string
		attrs     map[string]snstypes.MessageAttributeValue
		offloaded bool
	}{
		"small":       {msg: "hello"},
		"at limit":    {msg: strings.Repeat("a", 262144)},
		"one above":   {msg: strings.Repeat("a", 262145), offloaded: true},
		"empty attrs": {msg: strings.Repeat("a", 262144), attrs: map[string]snstypes.MessageAttributeValue{}},
		"string attribute at limit": {
			// "k" + "String" + "xyz" = 10 bytes.
			msg:   strings.Repeat("a", 262144-10),
			attrs: map[string]snstypes.MessageAttributeValue{"k": strAttr("xyz")},
		},
		"string attribute one above": {
			msg:       strings.Repeat("a", 262144-9),
			attrs:     map[string]snstypes.MessageAttributeValue{"k": strAttr("xyz")},
			offloaded: true,
		},
		"binary attribute one above": {
			// "bin" + "Binary" + 5 bytes = 14 bytes.
			msg: strings.Repeat("a", 262144-13),
			attrs: map[string]snstypes.MessageAttributeValue{
				"bin": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3, 4, 5}},
			},
			offloaded: true,
		},
		"multi-byte attribute name and value": {
			// "ü" (2) + "String" (6) + "€" (3) = 11 bytes.
			msg:       strings.Repeat("a", 262144-10),
			attrs:     map[string]snstypes.MessageAttributeValue{"ü": strAttr("€")},
			offloaded: true,
		},
		"two-byte runes at limit":          {msg: strings.Repeat("é", 131072)},
		"two-byte runes one above":         {msg: strings.Repeat("é", 131072) + "a", offloaded: true},
		"runes under limit, bytes over":    {msg: strings.Repeat("€", 100000), offloaded: true},
		"four-byte runes one byte over":    {msg: strings.Repeat("😀", 65536) + "a", offloaded: true},
		"four-byte runes exactly at limit": {msg: strings.Repeat("😀", 65536)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			in := &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(tc.msg), MessageAttributes: tc.attrs}
			out, err := e.client.Publish(context.Background(), in)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if out == nil || aws.ToString(out.MessageId) == "" {
				t.Fatalf("expect a MessageId, got %+v", out)
			}
			if tc.offloaded {
				e.expectCalls(t, "PutObject", "Publish")
				e.expectObjects(t, 1)
				return
			}
			e.expectCalls(t, "Publish")
			e.expectObjects(t, 0)
			if got := e.published(t); got != in {
				t.Errorf("expect the caller's params passed through, got a different input")
			}
		})
	}
}

func TestPublishWireFormat(t *testing.T) {
	cases := map[string]struct {
		opt      func(*snsx.Options)
		attrName string
	}{
		"default attribute name": {func(*snsx.Options) {}, "ExtendedPayloadSize"},
		"legacy attribute name":  {func(o *snsx.Options) { o.AttributeName = payload.LegacyAttributeName }, "SQSLargePayloadSize"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			msg := strings.Repeat("é", 131073) // 262146 bytes, 131073 runes
			e := newTestEnv(t, tc.opt)
			in := &sns.PublishInput{
				TopicArn:          aws.String(testTopic),
				Message:           aws.String(msg),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{"color": strAttr("blue")},
			}
			if _, err := e.client.Publish(context.Background(), in); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			e.expectCalls(t, "PutObject", "Publish")
			put := e.uploads()[0]
			bucket, key := aws.ToString(put.Bucket), aws.ToString(put.Key)
			if bucket != testBucket {
				t.Errorf("expect bucket %v, got %v", testBucket, bucket)
			}
			if _, err := uuid.Parse(key); err != nil || len(key) != 36 {
				t.Errorf("expect a UUID key, got %q (%v)", key, err)
			}
			if got := aws.ToInt64(put.ContentLength); got != int64(len(msg)) {
				t.Errorf("expect ContentLength %v, got %v", len(msg), got)
			}
			if stored, ok := e.s3.Object(bucket, key); !ok || string(stored) != msg {
				t.Errorf("expect the stored object to be the message as it is (%v bytes), got %v bytes", len(msg), len(stored))
			}

			sent := e.published(t)
			want, err := payload.EncodePointer(payload.Pointer{Bucket: bucket, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(sent.Message); got != want {
				t.Errorf("expect message %v, got %v", want, got)
			}
			javaForm := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"` + bucket + `","s3Key":"` + key + `"}]`
			if got := aws.ToString(sent.Message); got != javaForm {
				t.Errorf("expect the Java compact form %v, got %v", javaForm, got)
			}
			wantAttrs := map[string]snstypes.MessageAttributeValue{
				"color":     strAttr("blue"),
				tc.attrName: numAttr(262146),
			}
			if diff := cmp.Diff(wantAttrs, sent.MessageAttributes, awsCmp); diff != "" {
				t.Errorf("attributes mismatch (-want +got):\n%s", diff)
			}
			if got := aws.ToString(sent.TopicArn); got != testTopic {
				t.Errorf("expect TopicArn %v, got %v", testTopic, got)
			}
		})
	}
}

func TestPublishAlwaysThroughS3(t *testing.T) {
	e := newTestEnv(t, func(o *snsx.Options) { o.AlwaysThroughS3 = true })
	if _, err := e.client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String("tiny")}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "PutObject", "Publish")
	sent := e.published(t)
	if diff := cmp.Diff(map[string]snstypes.MessageAttributeValue{"ExtendedPayloadSize": numAttr(4)}, sent.MessageAttributes, awsCmp); diff != "" {
		t.Errorf("attributes mismatch (-want +got):\n%s", diff)
	}
	p, err := payload.DecodePointer(aws.ToString(sent.Message))
	if err != nil {
		t.Fatalf("expect a pointer, got %v", err)
	}
	if got, _ := e.s3.Object(p.Bucket, p.Key); string(got) != "tiny" {
		t.Errorf("expect %q stored, got %q", "tiny", got)
	}
}

func TestPublishKeyPrefix(t *testing.T) {
	e := newTestEnv(t, func(o *snsx.Options) { o.KeyPrefix = "sns/large-" })
	if _, err := e.client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", 262145))}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	key := aws.ToString(e.uploads()[0].Key)
	rest, ok := strings.CutPrefix(key, "sns/large-")
	if _, err := uuid.Parse(rest); !ok || err != nil {
		t.Errorf("expect key %q to be the prefix and a UUID", key)
	}
}

// TestPublishFieldsPassThrough checks that the fields Client does not own
// reach SNS unchanged when a message is offloaded.
func TestPublishFieldsPassThrough(t *testing.T) {
	cases := map[string]*sns.PublishInput{
		"standard topic": {
			TopicArn: aws.String(testTopic),
			Subject:  aws.String("big news"),
		},
		"FIFO topic": {
			TopicArn:               aws.String(testFIFO),
			MessageGroupId:         aws.String("group-1"),
			MessageDeduplicationId: aws.String("dedup-1"),
		},
		"target ARN": {
			TargetArn: aws.String("arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/1234"),
		},
		"phone number": {
			PhoneNumber: aws.String("+15555550100"),
		},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			in.Message = aws.String(strings.Repeat("x", 262145))
			if _, err := e.client.Publish(context.Background(), in); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			sent := e.published(t)
			if sent == in {
				t.Fatalf("expect a copy of the input when offloading, got the caller's")
			}
			want := *in
			want.Message = sent.Message
			want.MessageAttributes = sent.MessageAttributes
			if diff := cmp.Diff(&want, sent, awsCmp); diff != "" {
				t.Errorf("input mismatch (-want +got):\n%s", diff)
			}
			if len(sent.MessageAttributes) != 1 {
				t.Errorf("expect only the size attribute, got %v", sent.MessageAttributes)
			}
		})
	}
}

func TestPublishDoesNotModifyInput(t *testing.T) {
	e := newTestEnv(t)
	in := &sns.PublishInput{
		TopicArn:          aws.String(testTopic),
		Message:           aws.String(strings.Repeat("x", 300000)),
		Subject:           aws.String("s"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"a": strAttr("1"), "b": numAttr(2)},
	}
	before := deepCopy(t, in)
	attrs := in.MessageAttributes
	msg := in.Message
	if _, err := e.client.Publish(context.Background(), in); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if diff := cmp.Diff(before, in, awsCmp); diff != "" {
		t.Errorf("caller's params were modified (-before +after):\n%s", diff)
	}
	if len(attrs) != 2 || in.Message != msg {
		t.Errorf("expect the caller's attribute map and message untouched, got %v", attrs)
	}
}

func TestPublishInputErrors(t *testing.T) {
	big := strings.Repeat("x", 262145)
	cases := map[string]struct {
		opt    func(*snsx.Options)
		in     *sns.PublishInput
		field  string
		target error
	}{
		"empty message": {
			in:    &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String("")},
			field: "Message", target: sqsx.ErrEmptyBody,
		},
		"nil message": {
			in:    &sns.PublishInput{TopicArn: aws.String(testTopic)},
			field: "Message", target: sqsx.ErrEmptyBody,
		},
		"nil params": {
			in:    nil,
			field: "Message", target: sqsx.ErrEmptyBody,
		},
		"reserved attribute on small message": {
			in: &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String("hi"),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{"ExtendedPayloadSize": numAttr(2)}},
			field: `MessageAttributes["ExtendedPayloadSize"]`, target: sqsx.ErrReservedAttribute,
		},
		"legacy reserved attribute on large message": {
			in: &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(big),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{"SQSLargePayloadSize": numAttr(2)}},
			field: `MessageAttributes["SQSLargePayloadSize"]`, target: sqsx.ErrReservedAttribute,
		},
		"10 attributes when offloading": {
			in:    &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(big), MessageAttributes: manyAttrs(10)},
			field: "MessageAttributes", target: sqsx.ErrTooManyAttributes,
		},
		"10 attributes with AlwaysThroughS3": {
			opt:   func(o *snsx.Options) { o.AlwaysThroughS3 = true },
			in:    &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String("hi"), MessageAttributes: manyAttrs(10)},
			field: "MessageAttributes", target: sqsx.ErrTooManyAttributes,
		},
		"MessageStructure json when offloading": {
			in: &sns.PublishInput{TopicArn: aws.String(testTopic), MessageStructure: aws.String("json"),
				Message: aws.String(`{"default":"` + big + `"}`)},
			field: "MessageStructure", target: snsx.ErrMessageStructureJSON,
		},
		"no bucket when offloading": {
			opt:   func(o *snsx.Options) { o.Bucket = "" },
			in:    &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(big)},
			field: "Message", target: sqsx.ErrNoBucket,
		},
		"attributes too large to offload": {
			// Offloaded, the pointer (about 110 bytes) and the size
			// attribute still do not fit beside this attribute.
			in: &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String("x"),
				MessageAttributes: map[string]snstypes.MessageAttributeValue{"big": strAttr(strings.Repeat("v", 262144))}},
			field: "MessageAttributes", target: sqsx.ErrAttributesTooLarge,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			opts := []func(*snsx.Options){}
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			e := newTestEnv(t, opts...)
			out, err := e.client.Publish(context.Background(), tc.in)
			var ie *sqsx.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("expect *sqsx.InputError, got %T %v", err, err)
			}
			if out != nil {
				t.Errorf("expect nil output, got %v", out)
			}
			if ie.Op != "Publish" {
				t.Errorf("expect Op %v, got %v", "Publish", ie.Op)
			}
			if ie.Field != tc.field {
				t.Errorf("expect Field %v, got %v", tc.field, ie.Field)
			}
			if !errors.Is(err, tc.target) {
				t.Errorf("expect %v, got %v", tc.target, err)
			}
			e.expectCalls(t) // Nothing uploaded, nothing published.
		})
	}
}

func TestPublishNineAttributesOffloaded(t *testing.T) {
	e := newTestEnv(t)
	if _, err := e.client.Publish(context.Background(), &sns.PublishInput{
		TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", 262145)), MessageAttributes: manyAttrs(9),
	}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if got := len(e.published(t).MessageAttributes); got != 10 {
		t.Errorf("expect 10 attributes, got %v", got)
	}
}

// TestPublishSmallMessagesSkipOffloadChecks: checks that only matter for an
// offloaded message do not apply to one that is not.
func TestPublishSmallMessagesSkipOffloadChecks(t *testing.T) {
	cases := map[string]*sns.PublishInput{
		"MessageStructure json": {
			TopicArn: aws.String(testTopic), MessageStructure: aws.String("json"),
			Message: aws.String(`{"default":"hello","sqs":"hello sqs"}`),
		},
		"10 attributes": {
			TopicArn: aws.String(testTopic), Message: aws.String("hello"), MessageAttributes: manyAttrs(10),
		},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			if _, err := e.client.Publish(context.Background(), in); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			e.expectCalls(t, "Publish")
			if got := e.published(t); got != in {
				t.Errorf("expect the caller's params passed through, got a different input")
			}
		})
	}
}

func TestPublishAttributesNearlyTooLarge(t *testing.T) {
	// The largest attribute that still fits beside the pointer and the size
	// attribute is published offloaded: the offloaded form's size is
	// exactly the threshold.
	e := newTestEnv(t, func(o *snsx.Options) {
		o.KeyFunc = func(context.Context) (string, error) { return "fixed-key", nil }
	})
	ptr, err := payload.EncodePointer(payload.Pointer{Bucket: testBucket, Key: "fixed-key"})
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.Repeat("m", 1000)
	sizeAttr := len("ExtendedPayloadSize") + len("Number") + len("1000")
	value := strings.Repeat("v", 262144-len(ptr)-sizeAttr-len("big")-len("String"))
	in := &sns.PublishInput{
		TopicArn: aws.String(testTopic), Message: aws.String(msg),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{"big": strAttr(value)},
	}
	if _, err := e.client.Publish(context.Background(), in); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "PutObject", "Publish")

	// One more byte and it is refused before anything is uploaded.
	e = newTestEnv(t, func(o *snsx.Options) {
		o.KeyFunc = func(context.Context) (string, error) { return "fixed-key", nil }
	})
	in.MessageAttributes = map[string]snstypes.MessageAttributeValue{"big": strAttr(value + "v")}
	_, err = e.client.Publish(context.Background(), in)
	if !errors.Is(err, sqsx.ErrAttributesTooLarge) {
		t.Fatalf("expect %v, got %v", sqsx.ErrAttributesTooLarge, err)
	}
	e.expectCalls(t)
}

func TestPublishSNSFailureDeletesPayload(t *testing.T) {
	e := newTestEnv(t)
	// A client fault: SNS definitely refused the message.
	snsErr := &smithy.GenericAPIError{Code: "AuthorizationError", Message: "not allowed", Fault: smithy.FaultClient}
	e.sns.PublishFn = func(*sns.PublishInput) (*sns.PublishOutput, error) { return nil, snsErr }
	out, err := e.client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", 262145))})
	if out != nil {
		t.Errorf("expect nil output, got %v", out)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AuthorizationError" {
		t.Fatalf("expect the SNS error, got %v", err)
	}
	if !errors.Is(err, snsErr) {
		t.Errorf("expect the very SNS error, got %v", err)
	}
	e.expectCalls(t, "PutObject", "Publish", "DeleteObject")
	e.expectObjects(t, 0)
}

// TestPublishSNSFailureCleanupFailure: the SNS error is still what the caller
// gets when the payload cannot be deleted, and the object left is named.
func TestPublishSNSFailureCleanupFailure(t *testing.T) {
	e := newTestEnv(t)
	e.sns.PublishFn = func(*sns.PublishInput) (*sns.PublishOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "Throttled", Fault: smithy.FaultClient}
	}
	e.s3.DeleteObjectFn = func(*s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
		return nil, errors.New("s3 down")
	}
	_, err := e.client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", 262145))})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "Throttled" {
		t.Fatalf("expect the SNS error, got %v", err)
	}
	var ke *payload.KeptError
	if !errors.As(err, &ke) || ke.Ambiguous || ke.CleanupErr == nil || len(ke.Pointers) != 1 {
		t.Errorf("expect a KeptError naming the orphan and the clean-up failure, got %v", err)
	}
	e.expectCalls(t, "PutObject", "Publish", "DeleteObject")
	e.expectObjects(t, 1)
}

func TestPublishUploadFailure(t *testing.T) {
	e := newTestEnv(t)
	e.s3.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Fault: smithy.FaultClient}
	}
	_, err := e.client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", 262145))})
	var perr *payload.Error
	if !errors.As(err, &perr) || perr.Op != "PutObject" || perr.Bucket != testBucket {
		t.Fatalf("expect a *payload.Error for PutObject, got %v", err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
		t.Errorf("expect the S3 error reachable, got %v", err)
	}
	e.expectCalls(t, "PutObject")
}

func TestPublishSNSRejectsSmallMessage(t *testing.T) {
	e := newTestEnv(t)
	e.sns.PublishFn = func(*sns.PublishInput) (*sns.PublishOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "NotFound", Message: "Topic does not exist"}
	}
	_, err := e.client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String("hi")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NotFound" {
		t.Fatalf("expect the SNS error, got %v", err)
	}
	e.expectCalls(t, "Publish")
}

func TestPublishOptFnsPassedThrough(t *testing.T) {
	for _, size := range []int{10, 262145} {
		e := newTestEnv(t)
		var applied []string
		fn1 := func(o *sns.Options) { applied = append(applied, "one"); o.Region = "eu-west-1" }
		fn2 := func(o *sns.Options) { applied = append(applied, "two") }
		if _, err := e.client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", size))}, fn1, fn2); err != nil {
			t.Fatalf("expect no error, got %v", err)
		}
		// The caller's two and the user-agent key, plus, on an offloaded
		// publish, the library's own that watches the call's attempts.
		want := 3
		if size > 262144 {
			want = 4
		}
		if diff := cmp.Diff([]int{want}, e.snsOptFns()); diff != "" {
			t.Errorf("size %v: optFns mismatch (-want +got):\n%s", size, diff)
		}
		// The SNS optFns are not applied to S3 calls.
		for _, r := range e.s3Records() {
			if r.Options.(s3.Options).Region == "eu-west-1" {
				t.Errorf("size %v: expect no SNS optFns on %v", size, r.Op)
			}
		}
	}
}

func TestPublishS3ClientOptions(t *testing.T) {
	e := newTestEnv(t, func(o *snsx.Options) {
		o.S3ClientOptions = []func(*s3.Options){func(o *s3.Options) { o.Region = "ap-south-1" }}
	})
	if _, err := e.client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", 262145))}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	rec := e.s3Records()
	if len(rec) != 1 || rec[0].OptFns < 1 || rec[0].Options.(s3.Options).Region != "ap-south-1" {
		t.Errorf("expect S3ClientOptions on the upload, got %+v", rec)
	}
}

func TestPublishContextCanceled(t *testing.T) {
	for name, size := range map[string]int{"small": 10, "large": 262145} {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			out, err := e.client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", size))})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("expect %v, got %v", context.Canceled, err)
			}
			if out != nil {
				t.Errorf("expect nil output, got %v", out)
			}
			if size > 10 {
				e.expectCalls(t) // nothing uploaded, nothing published
			} else {
				e.expectCalls(t, "Publish")
			}
			e.expectObjects(t, 0)
		})
	}
}

// TestPublishCanceledAfterUpload: a context cancelled while SNS is called
// may have cut off a publish that SNS took, so the payload is kept and named.
func TestPublishCanceledAfterUpload(t *testing.T) {
	e := newTestEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.sns.PublishFn = func(*sns.PublishInput) (*sns.PublishOutput, error) {
		cancel()
		return nil, context.Canceled
	}
	_, err := e.client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", 262145))})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("expect %v, got %v", context.Canceled, err)
	}
	var ke *payload.KeptError
	if !errors.As(err, &ke) || !ke.Ambiguous || len(ke.Pointers) != 1 {
		t.Fatalf("expect a KeptError naming the payload, got %v", err)
	}
	e.expectCalls(t, "PutObject", "Publish")
	e.expectObjects(t, 1)
}

func TestPublishKeyFuncError(t *testing.T) {
	keyErr := errors.New("no keys today")
	e := newTestEnv(t, func(o *snsx.Options) {
		o.KeyFunc = func(context.Context) (string, error) { return "", keyErr }
	})
	_, err := e.client.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", 262145))})
	if !errors.Is(err, keyErr) {
		t.Fatalf("expect %v, got %v", keyErr, err)
	}
	e.expectCalls(t)
}

// TestPublishFanoutMarkerSurvivesCallerMetadata: a caller option that
// replaces Metadata must not drop the fan-out marker.
func TestPublishFanoutMarkerSurvivesCallerMetadata(t *testing.T) {
	e := newTestEnv(t, func(o *snsx.Options) {
		o.PutObjectOptions = []func(*s3.PutObjectInput){func(in *s3.PutObjectInput) {
			in.Metadata = map[string]string{"team": "blue"}
		}}
	})
	if _, err := e.client.Publish(context.Background(), &sns.PublishInput{
		TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("x", snsx.DefaultThreshold+1)),
	}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	ups := e.uploads()
	if len(ups) != 1 || ups[0].Metadata[snsx.FanoutMetadataKey] != "true" || ups[0].Metadata["team"] != "blue" {
		t.Fatalf("expect the marker and the caller's metadata, got %+v", ups)
	}
}

// TestPublishJSONStructureAlwaysThroughS3: a small MessageStructure "json"
// message is published as it is even with AlwaysThroughS3.
func TestPublishJSONStructureAlwaysThroughS3(t *testing.T) {
	e := newTestEnv(t, func(o *snsx.Options) { o.AlwaysThroughS3 = true })
	msg := `{"default":"hi","sqs":"hello"}`
	if _, err := e.client.Publish(context.Background(), &sns.PublishInput{
		TopicArn: aws.String(testTopic), Message: aws.String(msg), MessageStructure: aws.String("json"),
	}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if got := aws.ToString(e.published(t).Message); got != msg {
		t.Fatalf("expect the message published as it is, got %q", got)
	}
	e.expectObjects(t, 0)
}
