package sqsxtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"
)

// MaxPublishSize is SNS's limit on the size of a message and of a whole
// PublishBatch request, as the SNS fake enforces it: 256 KiB.
const MaxPublishSize = 262144

// SNS is a minimal in-memory SNS that implements snsx.SNSAPI: Publish and
// PublishBatch. Every topic exists.
//
//   - Publish and PublishBatch check what SNS checks: a non-empty message, at
//     most MaxMessageAttributes attributes, MaxPublishSize per message
//     (message attributes count, as in SNS) and per batch, and the batch
//     shape (1 to MaxBatchEntries entries with distinct ids). An entry that
//     Publish would refuse for its message or attributes becomes a Failed
//     entry. Each message gets a random UUID as MessageId.
//   - A published message is delivered to every queue subscribed to its
//     TopicArn with [SNS.Subscribe]: with raw message delivery as it was
//     published (the body, and the message attributes as SQS message
//     attributes), otherwise as the SNS JSON envelope (a "Notification" with
//     Message, MessageAttributes, TopicArn, …; the signature is not valid).
//     Delivery uses [SQS.Enqueue], so it is not recorded in the SQS fake's
//     Log, and it carries no FIFO group or deduplication id.
//
// Use NewSNS to make one.
type SNS struct {
	// Log records every call. NewSNS sets it.
	Log *Log

	// Now returns the current time, for the envelope's Timestamp.
	// Default: time.Now.
	Now func() time.Time

	// PublishFn, if set, is called for every Publish.
	PublishFn func(*sns.PublishInput) (*sns.PublishOutput, error)
	// PublishBatchFn, if set, is called for every PublishBatch.
	PublishBatchFn func(*sns.PublishBatchInput) (*sns.PublishBatchOutput, error)

	mu   sync.Mutex
	subs []subscription
}

// subscription delivers a topic's messages to a queue of an SQS fake.
type subscription struct {
	topic    string
	sqs      *SQS
	queueURL string
	raw      bool
}

// NewSNS returns an SNS without subscriptions that records its calls in log,
// or in a new Log if log is nil. Pass the Log of the SQS and S3 fakes to see
// the calls to all three in one sequence.
func NewSNS(log *Log) *SNS {
	if log == nil {
		log = &Log{}
	}
	return &SNS{Log: log}
}

// Subscribe delivers every message published to topicARN from now on to the
// queue at queueURL in q: as it was published if raw (raw message delivery),
// otherwise in the SNS JSON envelope.
func (f *SNS) Subscribe(topicARN string, q *SQS, queueURL string, raw bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, subscription{topic: topicARN, sqs: q, queueURL: queueURL, raw: raw})
}

func invalidSNSParameter(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "InvalidParameter", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

// publishSize is a message's size as SNS counts it.
func publishSize(msg *string, attrs map[string]snstypes.MessageAttributeValue) int {
	n := len(aws.ToString(msg))
	for name, v := range attrs {
		n += len(name) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}

// Publish delivers a message to the topic's subscriptions.
func (f *SNS) Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return call(ctx, f.Log, "SNS", "Publish", params, optFns, f.PublishFn, f.publish)
}

func (f *SNS) publish(params *sns.PublishInput) (*sns.PublishOutput, error) {
	if aws.ToString(params.Message) == "" {
		return nil, invalidSNSParameter("Empty message")
	}
	if len(params.MessageAttributes) > MaxMessageAttributes {
		return nil, invalidSNSParameter("Too many message attributes: %d", len(params.MessageAttributes))
	}
	if n := publishSize(params.Message, params.MessageAttributes); n > MaxPublishSize {
		return nil, invalidSNSParameter("Message too long: %d bytes", n)
	}
	id := uuid.NewString()
	f.deliver(id, aws.ToString(params.TopicArn), aws.ToString(params.Subject), aws.ToString(params.Message), params.MessageAttributes)
	return &sns.PublishOutput{MessageId: aws.String(id)}, nil
}

// PublishBatch delivers up to 10 messages to the topic's subscriptions.
func (f *SNS) PublishBatch(ctx context.Context, params *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	return call(ctx, f.Log, "SNS", "PublishBatch", params, optFns, f.PublishBatchFn, f.publishBatch)
}

func (f *SNS) publishBatch(params *sns.PublishBatchInput) (*sns.PublishBatchOutput, error) {
	entries := params.PublishBatchRequestEntries
	if len(entries) == 0 {
		return nil, &snstypes.EmptyBatchRequestException{Message: aws.String("The batch request doesn't contain any entries")}
	}
	if len(entries) > MaxBatchEntries {
		return nil, &snstypes.TooManyEntriesInBatchRequestException{Message: aws.String(fmt.Sprintf("%d entries", len(entries)))}
	}
	seen := map[string]bool{}
	total := 0
	for _, e := range entries {
		if seen[aws.ToString(e.Id)] {
			return nil, &snstypes.BatchEntryIdsNotDistinctException{Message: aws.String(fmt.Sprintf("Id %q repeated", aws.ToString(e.Id)))}
		}
		seen[aws.ToString(e.Id)] = true
		total += publishSize(e.Message, e.MessageAttributes)
	}
	if total > MaxPublishSize {
		return nil, &snstypes.BatchRequestTooLongException{Message: aws.String(fmt.Sprintf("The batch request is %d bytes", total))}
	}
	out := &sns.PublishBatchOutput{}
	for _, e := range entries {
		if aws.ToString(e.Message) == "" || len(e.MessageAttributes) > MaxMessageAttributes {
			out.Failed = append(out.Failed, snstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameter"), SenderFault: true})
			continue
		}
		id := uuid.NewString()
		f.deliver(id, aws.ToString(params.TopicArn), aws.ToString(e.Subject), aws.ToString(e.Message), e.MessageAttributes)
		out.Successful = append(out.Successful, snstypes.PublishBatchResultEntry{Id: e.Id, MessageId: aws.String(id)})
	}
	return out, nil
}

// deliver enqueues a published message in every queue subscribed to topic.
func (f *SNS) deliver(id, topic, subject, msg string, attrs map[string]snstypes.MessageAttributeValue) {
	f.mu.Lock()
	subs := append([]subscription(nil), f.subs...)
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	f.mu.Unlock()
	for _, s := range subs {
		if s.topic != topic {
			continue
		}
		if s.raw {
			s.sqs.Enqueue(s.queueURL, msg, sqsAttributes(attrs))
		} else {
			s.sqs.Enqueue(s.queueURL, envelope(id, topic, subject, msg, now(), attrs), nil)
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

// envelope returns the body SNS delivers without raw message delivery.
func envelope(id, topic, subject, msg string, ts time.Time, attrs map[string]snstypes.MessageAttributeValue) string {
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
		Timestamp: ts.UTC().Format("2006-01-02T15:04:05.000Z"), SignatureVersion: "1", Signature: "c2lnbmF0dXJl",
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
