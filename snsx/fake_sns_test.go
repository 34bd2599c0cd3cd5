package snsx_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/fake"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
)

// The fakes satisfy the interfaces New takes.
var (
	_ snsx.SNSAPI   = (*fakeSNS)(nil)
	_ payload.S3API = (*metaS3)(nil)
	_ sqsx.S3API    = (*metaS3)(nil)
)

// snsMaxSize is SNS's limit on a message and on a PublishBatch request.
const snsMaxSize = 262144

// callLog records, in order, the operations of a fakeSNS and a metaS3 that
// share it, so that a test can assert the order of calls across SNS and S3.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(op string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, op)
}

// Calls returns the recorded operation names, never nil.
func (l *callLog) Calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string{}, l.calls...)
}

// metaS3 is the recording S3 fake plus what it lacks for fan-out: it keeps
// each object's user metadata from PutObject and returns it from GetObject,
// as S3 does. Every call is also recorded in log.
type metaS3 struct {
	*fake.S3
	log *callLog

	mu   sync.Mutex
	meta map[string]map[string]string // bucket + "/" + key
}

func newMetaS3(log *callLog) *metaS3 {
	return &metaS3{S3: fake.NewS3(nil), log: log, meta: map[string]map[string]string{}}
}

// Metadata returns the user metadata stored with an object.
func (m *metaS3) Metadata(bucket, key string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.meta[bucket+"/"+key])
}

func (m *metaS3) PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	m.log.add("PutObject")
	out, err := m.S3.PutObject(ctx, params, optFns...)
	if err == nil {
		m.mu.Lock()
		m.meta[aws.ToString(params.Bucket)+"/"+aws.ToString(params.Key)] = maps.Clone(params.Metadata)
		m.mu.Unlock()
	}
	return out, err
}

func (m *metaS3) GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.log.add("GetObject")
	out, err := m.S3.GetObject(ctx, params, optFns...)
	if err == nil && params != nil {
		out.Metadata = m.Metadata(aws.ToString(params.Bucket), aws.ToString(params.Key))
	}
	return out, err
}

func (m *metaS3) DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	m.log.add("DeleteObject")
	return m.S3.DeleteObject(ctx, params, optFns...)
}

func (m *metaS3) DeleteObjects(ctx context.Context, params *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	m.log.add("DeleteObjects")
	return m.S3.DeleteObjects(ctx, params, optFns...)
}

// subscription delivers a topic's messages to a queue of an SQS fake.
type subscription struct {
	sqs      *fake.SQS
	queueURL string
	raw      bool
}

// fakeSNS is an in-memory SNS with Publish and PublishBatch only. It records
// its calls (with their params) and checks what SNS checks: a non-empty
// message, at most 10 attributes, 256 KiB per message and per batch, the
// batch shape. Published messages are delivered to the subscriptions, raw
// (pointer body, attributes as SQS attributes) or in the SNS JSON envelope.
//
// PublishFn and PublishBatchFn, if set, are called after the call is
// recorded; a nil output and nil error go on to the default behaviour.
type fakeSNS struct {
	log *callLog

	PublishFn      func(*sns.PublishInput) (*sns.PublishOutput, error)
	PublishBatchFn func(*sns.PublishBatchInput) (*sns.PublishBatchOutput, error)

	mu        sync.Mutex
	publishes []*sns.PublishInput
	batches   []*sns.PublishBatchInput
	optFns    []int
	subs      []subscription
	seq       int
}

func newFakeSNS(log *callLog) *fakeSNS { return &fakeSNS{log: log} }

// Subscribe delivers every message published from now on to queueURL.
func (f *fakeSNS) Subscribe(q *fake.SQS, queueURL string, raw bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, subscription{sqs: q, queueURL: queueURL, raw: raw})
}

// Published returns the params of every Publish call.
func (f *fakeSNS) Published() []*sns.PublishInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sns.PublishInput(nil), f.publishes...)
}

// Batches returns the params of every PublishBatch call.
func (f *fakeSNS) Batches() []*sns.PublishBatchInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*sns.PublishBatchInput(nil), f.batches...)
}

// OptFns returns how many per-call option functions each call got.
func (f *fakeSNS) OptFns() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.optFns...)
}

func snsError(op, code, format string, args ...any) error {
	return &smithy.OperationError{ServiceID: "SNS", OperationName: op,
		Err: &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}}
}

// wireSize is a message's size as SNS counts it.
func wireSize(msg *string, attrs map[string]snstypes.MessageAttributeValue) int {
	n := len(aws.ToString(msg))
	for name, v := range attrs {
		n += int(payload.AttributeSize(name, aws.ToString(v.DataType), v.StringValue, v.BinaryValue))
	}
	return n
}

func (f *fakeSNS) nextID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	return fmt.Sprintf("msg-%d", f.seq)
}

func (f *fakeSNS) Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	const op = "Publish"
	f.log.add(op)
	f.mu.Lock()
	f.publishes = append(f.publishes, params)
	f.optFns = append(f.optFns, len(optFns))
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &smithy.OperationError{ServiceID: "SNS", OperationName: op, Err: err}
	}
	if f.PublishFn != nil {
		if out, err := f.PublishFn(params); out != nil || err != nil {
			return out, err
		}
	}
	if params == nil || aws.ToString(params.Message) == "" {
		return nil, snsError(op, "InvalidParameter", "Empty message")
	}
	if len(params.MessageAttributes) > 10 {
		return nil, snsError(op, "InvalidParameter", "Too many message attributes: %d", len(params.MessageAttributes))
	}
	if n := wireSize(params.Message, params.MessageAttributes); n > snsMaxSize {
		return nil, snsError(op, "InvalidParameter", "Message too long: %d bytes", n)
	}
	id := f.nextID()
	f.deliver(id, params.TopicArn, params.Subject, params.Message, params.MessageAttributes)
	return &sns.PublishOutput{MessageId: aws.String(id)}, nil
}

func (f *fakeSNS) PublishBatch(ctx context.Context, params *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	const op = "PublishBatch"
	f.log.add(op)
	f.mu.Lock()
	f.batches = append(f.batches, params)
	f.optFns = append(f.optFns, len(optFns))
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &smithy.OperationError{ServiceID: "SNS", OperationName: op, Err: err}
	}
	if f.PublishBatchFn != nil {
		if out, err := f.PublishBatchFn(params); out != nil || err != nil {
			return out, err
		}
	}
	if params == nil || len(params.PublishBatchRequestEntries) == 0 {
		return nil, snsError(op, "EmptyBatchRequest", "The batch request doesn't contain any entries")
	}
	entries := params.PublishBatchRequestEntries
	if len(entries) > 10 {
		return nil, snsError(op, "TooManyEntriesInBatchRequest", "%d entries", len(entries))
	}
	seen := map[string]bool{}
	total := 0
	for _, e := range entries {
		if seen[aws.ToString(e.Id)] {
			return nil, snsError(op, "BatchEntryIdsNotDistinct", "Id %q repeated", aws.ToString(e.Id))
		}
		seen[aws.ToString(e.Id)] = true
		total += wireSize(e.Message, e.MessageAttributes)
	}
	if total > snsMaxSize {
		return nil, snsError(op, "BatchRequestTooLong", "The batch request is %d bytes", total)
	}
	out := &sns.PublishBatchOutput{}
	for _, e := range entries {
		if aws.ToString(e.Message) == "" || len(e.MessageAttributes) > 10 {
			out.Failed = append(out.Failed, snstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameter"), SenderFault: true})
			continue
		}
		id := f.nextID()
		f.deliver(id, params.TopicArn, e.Subject, e.Message, e.MessageAttributes)
		out.Successful = append(out.Successful, snstypes.PublishBatchResultEntry{Id: e.Id, MessageId: aws.String(id)})
	}
	return out, nil
}

// deliver enqueues a published message in every subscribed queue.
func (f *fakeSNS) deliver(id string, topic, subject, msg *string, attrs map[string]snstypes.MessageAttributeValue) {
	f.mu.Lock()
	subs := append([]subscription(nil), f.subs...)
	f.mu.Unlock()
	for _, s := range subs {
		if s.raw {
			s.sqs.Enqueue(s.queueURL, aws.ToString(msg), sqsAttributes(attrs))
		} else {
			s.sqs.Enqueue(s.queueURL, snsEnvelope(id, aws.ToString(topic), aws.ToString(subject), aws.ToString(msg), attrs), nil)
		}
	}
}

func sqsAttributes(attrs map[string]snstypes.MessageAttributeValue) map[string]types.MessageAttributeValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]types.MessageAttributeValue, len(attrs))
	for name, v := range attrs {
		out[name] = types.MessageAttributeValue{DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue}
	}
	return out
}

type envelopeAttr struct {
	Type  string
	Value string
}

// snsEnvelope returns the body SNS delivers without raw message delivery.
func snsEnvelope(id, topic, subject, msg string, attrs map[string]snstypes.MessageAttributeValue) string {
	env := struct {
		Type              string
		MessageId         string
		TopicArn          string
		Subject           string `json:",omitempty"`
		Message           string
		Timestamp         string
		SignatureVersion  string
		Signature         string
		SigningCertURL    string
		UnsubscribeURL    string
		MessageAttributes map[string]envelopeAttr `json:",omitempty"`
	}{
		Type: "Notification", MessageId: id, TopicArn: topic, Subject: subject, Message: msg,
		Timestamp: "2025-01-02T03:04:05.678Z", SignatureVersion: "1", Signature: "c2lnbmF0dXJl",
		SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem",
		UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topic + ":sub",
	}
	if len(attrs) > 0 {
		env.MessageAttributes = map[string]envelopeAttr{}
		for name, v := range attrs {
			a := envelopeAttr{Type: aws.ToString(v.DataType), Value: aws.ToString(v.StringValue)}
			if v.BinaryValue != nil {
				a.Value = base64.StdEncoding.EncodeToString(v.BinaryValue)
			}
			env.MessageAttributes[name] = a
		}
	}
	b, err := json.Marshal(env)
	if err != nil {
		panic(err)
	}
	return string(b)
}
