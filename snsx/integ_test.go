package snsx_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
)

// These tests publish through the local SNS server to SQS queues and read
// with the sqsx consumer (see scripts/servers.sh).

type snsInteg struct {
	t      *testing.T
	env    *testenv.Clients
	bucket string
	topic  string
	pub    *snsx.Client
}

func newSNSInteg(t *testing.T, fifo bool, optFns ...func(*snsx.Options)) *snsInteg {
	t.Helper()
	env := testenv.Require(t)
	it := &snsInteg{t: t, env: env, bucket: env.Bucket(t), topic: env.Topic(t, fifo)}
	fns := append([]func(*snsx.Options){func(o *snsx.Options) { o.Bucket = it.bucket }}, optFns...)
	pub, err := snsx.New(env.SNS, env.S3, fns...)
	if err != nil {
		t.Fatalf("snsx.New: %v", err)
	}
	it.pub = pub
	return it
}

// subscriber creates a queue subscribed to the topic and an sqsx consumer.
func (it *snsInteg) subscriber(fifo, raw bool, optFns ...func(*sqsx.Options)) (string, *sqsx.Client) {
	it.t.Helper()
	q := it.env.Queue(it.t, fifo, nil)
	it.env.Subscribe(it.t, it.topic, q, raw)
	fns := append([]func(*sqsx.Options){func(o *sqsx.Options) { o.Bucket = it.bucket }}, optFns...)
	c, err := sqsx.New(it.env.SQS, it.env.S3, fns...)
	if err != nil {
		it.t.Fatalf("sqsx.New: %v", err)
	}
	return q, c
}

func (it *snsInteg) receive(c *sqsx.Client, queue string, n int) []types.Message {
	it.t.Helper()
	return testenv.ReceiveAll(it.t, c, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(queue), MessageAttributeNames: []string{"All"}, VisibilityTimeout: 5,
	}, n, 30*time.Second)
}

func deleteMessage(t *testing.T, c *sqsx.Client, queue string, m types.Message) {
	t.Helper()
	if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
}

// text returns n bytes of BMP text (fauxqs rejects characters above U+FFFF
// in message bodies).
func text(n int, seed string) string {
	s := strings.Repeat(seed+" größe ✓ 日本語 ", n/20+1)
	for len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s + strings.Repeat("x", n-len(s))
}

var publishAttrs = map[string]snstypes.MessageAttributeValue{
	"color": {DataType: aws.String("String"), StringValue: aws.String("grün")},
	"n":     {DataType: aws.String("Number"), StringValue: aws.String("42.5")},
	"bin":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, 0xfe, 0xff}},
}

// expectAttributes checks that m carries publishAttrs and nothing else.
func expectAttributes(t *testing.T, got map[string]types.MessageAttributeValue) {
	t.Helper()
	if len(got) != len(publishAttrs) {
		t.Fatalf("expect attributes %v, got %v", publishAttrs, got)
	}
	for name, want := range publishAttrs {
		g := got[name]
		if aws.ToString(g.DataType) != aws.ToString(want.DataType) || aws.ToString(g.StringValue) != aws.ToString(want.StringValue) ||
			!bytes.Equal(g.BinaryValue, want.BinaryValue) {
			t.Fatalf("attribute %s: expect %s %q %v, got %s %q %v", name, aws.ToString(want.DataType), aws.ToString(want.StringValue),
				want.BinaryValue, aws.ToString(g.DataType), aws.ToString(g.StringValue), g.BinaryValue)
		}
	}
}

func TestIntegPublishRawAndEnvelope(t *testing.T) {
	it := newSNSInteg(t, false)
	rawQ, rawC := it.subscriber(false, true)
	keepQ, keepC := it.subscriber(false, false)
	unwrapQ, unwrapC := it.subscriber(false, false, func(o *sqsx.Options) { o.SNSEnvelope = sqsx.SNSEnvelopeUnwrap })
	body := text(300<<10, "fan")
	if _, err := it.pub.Publish(context.Background(), &sns.PublishInput{
		TopicArn: aws.String(it.topic), Message: aws.String(body), Subject: aws.String("big one"), MessageAttributes: publishAttrs,
	}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if n := len(it.env.Keys(t, it.bucket)); n != 1 {
		t.Fatalf("expect 1 payload in S3, got %d", n)
	}

	t.Run("raw delivery", func(t *testing.T) {
		if it.env.Quirks.RawBinaryAttributeFails {
			// SQS delivers the Binary attribute as Binary; moto fails the
			// receive (TestIntegPublishBatch covers raw delivery there).
			expectReceiveFails(t, it.env, rawQ, http.StatusInternalServerError)
			return
		}
		m := it.receive(rawC, rawQ, 1)[0]
		if aws.ToString(m.Body) != body {
			t.Fatalf("expect the payload as body, got %.80q", aws.ToString(m.Body))
		}
		expectAttributes(t, m.MessageAttributes)
	})
	t.Run("envelope kept", func(t *testing.T) {
		m := it.receive(keepC, keepQ, 1)[0]
		var env struct {
			Type, Message, Subject, TopicArn string
			MessageAttributes                map[string]struct{ Type, Value string }
		}
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
			t.Fatalf("expect an SNS envelope, got %v: %.200s", err, aws.ToString(m.Body))
		}
		if env.Type != "Notification" || env.Message != body || env.Subject != "big one" || env.TopicArn != it.topic {
			t.Fatalf("expect the envelope with the payload as Message, got Type=%s Subject=%s TopicArn=%s Message=%.80q",
				env.Type, env.Subject, env.TopicArn, env.Message)
		}
		if _, ok := env.MessageAttributes[payload.AttributeName]; ok || len(env.MessageAttributes) != 3 {
			t.Fatalf("expect the 3 published attributes without the marker, got %v", env.MessageAttributes)
		}
		if got := env.MessageAttributes["bin"]; got.Type != "Binary" || got.Value != base64.StdEncoding.EncodeToString(publishAttrs["bin"].BinaryValue) {
			t.Fatalf("expect the binary attribute base64 in the envelope, got %+v", got)
		}
	})
	t.Run("envelope unwrapped", func(t *testing.T) {
		m := it.receive(unwrapC, unwrapQ, 1)[0]
		if aws.ToString(m.Body) != body {
			t.Fatalf("expect the payload as body, got %.80q", aws.ToString(m.Body))
		}
		expectAttributes(t, m.MessageAttributes)
	})
}

// expectReceiveFails checks that one ReceiveMessage from queue, without
// retries, fails with the HTTP status code.
func expectReceiveFails(t *testing.T, env *testenv.Clients, queue string, code int) {
	t.Helper()
	_, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(queue), MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 5,
	}, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != code {
		t.Fatalf("expect ReceiveMessage to fail with HTTP %d on %s (known deviation), got %v", code, env.Backend, err)
	}
}

// TestIntegFanoutDeleteKeepsPayload: one subscriber deleting its message
// must not take the payload from the others, with and without raw delivery.
func TestIntegFanoutDeleteKeepsPayload(t *testing.T) {
	for _, raw := range []bool{true, false} {
		t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) {
			it := newSNSInteg(t, false)
			q1, c1 := it.subscriber(false, raw, func(o *sqsx.Options) { o.SNSEnvelope = sqsx.SNSEnvelopeUnwrap })
			q2, c2 := it.subscriber(false, raw, func(o *sqsx.Options) { o.SNSEnvelope = sqsx.SNSEnvelopeUnwrap })
			body := text(400<<10, "shared")
			if _, err := it.pub.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(it.topic), Message: aws.String(body)}); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			m1 := it.receive(c1, q1, 1)[0]
			if aws.ToString(m1.Body) != body {
				t.Fatal("subscriber 1: expect the payload")
			}
			if strings.Contains(aws.ToString(m1.ReceiptHandle), payload.KeyMarker) {
				t.Fatalf("expect the original receipt handle for a shared payload, got %q", aws.ToString(m1.ReceiptHandle))
			}
			deleteMessage(t, c1, q1, m1)
			m2 := it.receive(c2, q2, 1)[0]
			if aws.ToString(m2.Body) != body {
				t.Fatal("subscriber 2: expect the payload after subscriber 1 deleted its message")
			}
			deleteMessage(t, c2, q2, m2)
			if n := len(it.env.Keys(t, it.bucket)); n != 1 {
				t.Fatalf("expect the shared payload left for the lifecycle rule, got %d objects", n)
			}
		})
	}
}

// TestIntegDeletableByConsumers: a single-subscriber topic may let its
// consumer delete payloads.
func TestIntegDeletableByConsumers(t *testing.T) {
	it := newSNSInteg(t, false, func(o *snsx.Options) { o.DeletableByConsumers = true })
	q, c := it.subscriber(false, true)
	if _, err := it.pub.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(it.topic), Message: aws.String(text(300<<10, "one"))}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	deleteMessage(t, c, q, it.receive(c, q, 1)[0])
	if keys := it.env.Keys(t, it.bucket); len(keys) != 0 {
		t.Fatalf("expect the payload deleted with the message, got %v", keys)
	}
}

func TestIntegFIFOTopic(t *testing.T) {
	it := newSNSInteg(t, true)
	q, c := it.subscriber(true, true)
	bodies := []string{text(300<<10, "first"), "second", text(270000, "third")}
	for i, b := range bodies {
		if _, err := it.pub.Publish(context.Background(), &sns.PublishInput{
			TopicArn: aws.String(it.topic), Message: aws.String(b),
			MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String(fmt.Sprint("d", i)),
		}); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
	}
	for i, want := range bodies {
		m := it.receive(c, q, 1)[0]
		if aws.ToString(m.Body) != want {
			t.Fatalf("message %d: expect %d bytes in order, got %d", i, len(want), len(aws.ToString(m.Body)))
		}
		deleteMessage(t, c, q, m)
	}
}

func TestIntegPublishBatch(t *testing.T) {
	it := newSNSInteg(t, false)
	q, c := it.subscriber(false, true)
	sizes := []int{10, 100 << 10, 50, 60 << 10, 300 << 10, 70 << 10, 5, 80 << 10, 1000, 40 << 10}
	var entries []snstypes.PublishBatchRequestEntry
	want := map[string]string{}
	for i, n := range sizes {
		id := fmt.Sprint("e", i)
		want[id] = text(n, id)
		entries = append(entries, snstypes.PublishBatchRequestEntry{
			Id: aws.String(id), Message: aws.String(want[id]),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"id": {DataType: aws.String("String"), StringValue: aws.String(id)}},
		})
	}
	out, err := it.pub.PublishBatch(context.Background(), &sns.PublishBatchInput{TopicArn: aws.String(it.topic), PublishBatchRequestEntries: entries})
	if err != nil {
		t.Fatalf("PublishBatch: %v", err)
	}
	if len(out.Successful) != len(sizes) || len(out.Failed) != 0 {
		t.Fatalf("expect %d successful, got %d, failed %+v", len(sizes), len(out.Successful), out.Failed)
	}
	// 300 KiB is over the threshold; offloading the 100 KiB entry then
	// brings the rest (257,485 bytes) under SNS's 262,144-byte batch limit.
	if n := len(it.env.Keys(t, it.bucket)); n != 2 {
		t.Fatalf("expect 2 offloaded entries, got %d", n)
	}
	for _, m := range it.receive(c, q, len(sizes)) {
		id := aws.ToString(m.MessageAttributes["id"].StringValue)
		if aws.ToString(m.Body) != want[id] {
			t.Fatalf("entry %s: body differs (%d bytes, want %d)", id, len(aws.ToString(m.Body)), len(want[id]))
		}
		deleteMessage(t, c, q, m)
	}
}

func TestIntegPublishErrors(t *testing.T) {
	it := newSNSInteg(t, false)
	_, err := it.pub.Publish(context.Background(), &sns.PublishInput{
		TopicArn: aws.String(it.topic), Message: aws.String(text(300<<10, "j")), MessageStructure: aws.String("json"),
	})
	var ie *sqsx.InputError
	if !errors.As(err, &ie) || ie.Field != "MessageStructure" || !errors.Is(err, snsx.ErrMessageStructureJSON) {
		t.Fatalf("expect an *InputError on MessageStructure, got %v", err)
	}
	missing := it.topic + "-missing"
	_, err = it.pub.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(missing), Message: aws.String(text(300<<10, "m"))})
	var nf *snstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("expect *types.NotFoundException, got %v", err)
	}
	if keys := it.env.Keys(t, it.bucket); len(keys) != 0 {
		t.Fatalf("expect no payload left after failed publishes, got %v", keys)
	}
}

func TestIntegExpirationRule(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	s3c := env.LifecycleS3()
	bucket := testenv.Name("sqsx")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	t.Cleanup(func() { s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}) })
	if rule, err := payload.ExpirationRule(ctx, s3c, bucket, "payloads/"); err != nil || rule != nil {
		t.Fatalf("expect no rule on a new bucket, got %+v, %v", rule, err)
	}
	other := s3types.LifecycleRule{ID: aws.String("keep-me"), Status: s3types.ExpirationStatusEnabled,
		Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("logs/")}, Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(30)}}
	if _, err := s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(bucket), LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{other}},
	}); err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration: %v", err)
	}
	for _, days := range []int32{7, 3} { // twice: the second replaces the first
		if err := payload.PutExpirationRule(ctx, s3c, bucket, "payloads/", days); err != nil {
			t.Fatalf("PutExpirationRule: %v", err)
		}
	}
	out, err := s3c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Rules) != 2 {
		t.Fatalf("expect the other rule and ours, got %d rules", len(out.Rules))
	}
	rule, err := payload.ExpirationRule(ctx, s3c, bucket, "payloads/")
	if err != nil || rule == nil || aws.ToInt32(rule.Expiration.Days) != 3 || aws.ToString(rule.Filter.Prefix) != "payloads/" {
		t.Fatalf("expect our rule with 3 days on payloads/, got %+v, %v", rule, err)
	}
}
