package sqsxtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"
)

// Limits the SQS fake enforces, as SQS does.
const (
	// DefaultMaximumMessageSize is the MaximumMessageSize of a queue whose
	// attributes do not set it: SQS's default, 256 KiB.
	DefaultMaximumMessageSize = 262144
	// MaxBatchSize is the largest total size of a SendMessageBatch request.
	MaxBatchSize = 1048576
	// MaxBatchEntries is the most entries a batch request may hold.
	MaxBatchEntries = 10
	// MaxMessageAttributes is the most message attributes a message may have.
	MaxMessageAttributes = 10
)

// SQS is a minimal in-memory SQS that implements sqsx.SQSAPI. A queue is
// created on first use of its URL; the URL's suffix ".fifo" makes it a FIFO
// queue.
//
//   - SendMessage and SendMessageBatch enqueue messages with a random UUID as
//     MessageId. They check the size against the queue's MaximumMessageSize
//     (message attributes count, as in SQS), the batch total against
//     MaxBatchSize, and the batch shape; FIFO queues need a MessageGroupId and
//     deduplicate by MessageDeduplicationId, or by the body's SHA-256 when the
//     queue's ContentBasedDeduplication is "true".
//   - ReceiveMessage returns up to MaxNumberOfMessages (default 1, at most 10)
//     visible messages, in send order, each with a fresh random receipt handle,
//     and hides them for the visibility timeout (the request's, else the
//     queue's VisibilityTimeout, 30 s by default). It returns the message
//     attributes MessageAttributeNames asks for: "All", ".*", names, and
//     prefixes such as "foo.*". WaitTimeSeconds is ignored.
//   - DeleteMessage and ChangeMessageVisibility accept any handle issued for
//     a message still in the queue; others get *types.ReceiptHandleIsInvalid
//     (a Failed entry with that code in the batch forms).
//   - GetQueueAttributes returns the queue's attributes: the defaults, those
//     set with SetAttributes, and ApproximateNumberOfMessages[NotVisible].
//
// Use NewSQS or New to make one.
type SQS struct {
	// Log records every call. NewSQS sets it.
	Log *Log

	// Now returns the current time, for visibility timeouts and delays.
	// Default: time.Now.
	Now func() time.Time

	// SendMessageFn, if set, is called for every SendMessage.
	SendMessageFn func(*sqs.SendMessageInput) (*sqs.SendMessageOutput, error)
	// SendMessageBatchFn, if set, is called for every SendMessageBatch.
	SendMessageBatchFn func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
	// ReceiveMessageFn, if set, is called for every ReceiveMessage.
	ReceiveMessageFn func(*sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error)
	// DeleteMessageFn, if set, is called for every DeleteMessage.
	DeleteMessageFn func(*sqs.DeleteMessageInput) (*sqs.DeleteMessageOutput, error)
	// DeleteMessageBatchFn, if set, is called for every DeleteMessageBatch.
	DeleteMessageBatchFn func(*sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error)
	// ChangeMessageVisibilityFn, if set, is called for every
	// ChangeMessageVisibility.
	ChangeMessageVisibilityFn func(*sqs.ChangeMessageVisibilityInput) (*sqs.ChangeMessageVisibilityOutput, error)
	// ChangeMessageVisibilityBatchFn, if set, is called for every
	// ChangeMessageVisibilityBatch.
	ChangeMessageVisibilityBatchFn func(*sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	// GetQueueAttributesFn, if set, is called for every GetQueueAttributes.
	GetQueueAttributesFn func(*sqs.GetQueueAttributesInput) (*sqs.GetQueueAttributesOutput, error)

	mu      sync.Mutex
	queues  map[string]*queue
	handles map[string]*message // every receipt handle issued -> its message
}

type queue struct {
	url   string
	attrs map[string]string
	msgs  []*message          // in send order
	dedup map[string]*message // FIFO: deduplication id -> message
}

type message struct {
	q         *queue
	id        string
	body      string
	attrs     map[string]types.MessageAttributeValue
	groupID   *string
	dedupID   *string
	sent      time.Time
	visibleAt time.Time
	received  int
	handle    string   // the latest receipt handle
	handles   []string // every receipt handle issued
}

// NewSQS returns an SQS with no queues that records its calls in log, or in
// a new Log if log is nil.
func NewSQS(log *Log) *SQS {
	if log == nil {
		log = &Log{}
	}
	return &SQS{Log: log}
}

func (f *SQS) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func invalidParameter(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

// queueLocked returns the queue at url, creating it. f.mu must be held.
func (f *SQS) queueLocked(url string) (*queue, error) {
	if url == "" {
		return nil, &types.QueueDoesNotExist{Message: aws.String("The specified queue does not exist.")}
	}
	if f.queues == nil {
		f.queues = map[string]*queue{}
		f.handles = map[string]*message{}
	}
	q := f.queues[url]
	if q == nil {
		q = &queue{url: url, attrs: map[string]string{
			"MaximumMessageSize":            strconv.Itoa(DefaultMaximumMessageSize),
			"VisibilityTimeout":             "30",
			"DelaySeconds":                  "0",
			"MessageRetentionPeriod":        "345600",
			"ReceiveMessageWaitTimeSeconds": "0",
		}, dedup: map[string]*message{}}
		if q.fifo() {
			q.attrs["FifoQueue"] = "true"
			q.attrs["ContentBasedDeduplication"] = "false"
		}
		f.queues[url] = q
	}
	return q, nil
}

func (q *queue) fifo() bool { return strings.HasSuffix(q.url, ".fifo") }

func (q *queue) intAttr(name string, def int) int {
	if n, err := strconv.Atoi(q.attrs[name]); err == nil {
		return n
	}
	return def
}

// SetAttributes sets attributes of the queue at queueURL (creating it), such
// as "MaximumMessageSize" or "ContentBasedDeduplication", without recording
// a call.
func (f *SQS) SetAttributes(queueURL string, attrs map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.queueLocked(queueURL)
	if err != nil {
		panic(err)
	}
	maps.Copy(q.attrs, attrs)
}

// Enqueue puts a message in the queue at queueURL as it is, without recording
// a call or checking it, and returns its MessageId. Use it to place messages
// written by other clients.
func (f *SQS) Enqueue(queueURL, body string, attrs map[string]types.MessageAttributeValue) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.queueLocked(queueURL)
	if err != nil {
		panic(err)
	}
	now := f.now()
	m := &message{q: q, id: uuid.NewString(), body: body, attrs: copyAttributes(attrs), sent: now, visibleAt: now}
	q.msgs = append(q.msgs, m)
	return m.id
}

// Messages returns copies of every message in the queue at queueURL, visible
// or not, in send order, with all their message attributes and with the
// latest receipt handle issued for each (nil if never received).
func (f *SQS) Messages(queueURL string) []types.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queues[queueURL]
	if q == nil {
		return nil
	}
	out := make([]types.Message, len(q.msgs))
	for i, m := range q.msgs {
		out[i] = types.Message{
			MessageId:         aws.String(m.id),
			Body:              aws.String(m.body),
			MD5OfBody:         aws.String(md5Hex(m.body)),
			MessageAttributes: copyAttributes(m.attrs),
		}
		if m.handle != "" {
			out[i].ReceiptHandle = aws.String(m.handle)
		}
	}
	return out
}

// Len returns the number of messages in the queue at queueURL, visible or
// not.
func (f *SQS) Len(queueURL string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if q := f.queues[queueURL]; q != nil {
		return len(q.msgs)
	}
	return 0
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func copyAttributes(attrs map[string]types.MessageAttributeValue) map[string]types.MessageAttributeValue {
	if attrs == nil {
		return nil
	}
	out := make(map[string]types.MessageAttributeValue, len(attrs))
	for k, v := range attrs {
		out[k] = copyAttribute(v)
	}
	return out
}

func copyAttribute(v types.MessageAttributeValue) types.MessageAttributeValue {
	c := types.MessageAttributeValue{DataType: cloneString(v.DataType), StringValue: cloneString(v.StringValue)}
	if v.BinaryValue != nil {
		c.BinaryValue = bytes.Clone(v.BinaryValue)
	}
	c.StringListValues = slices.Clone(v.StringListValues)
	for _, b := range v.BinaryListValues {
		c.BinaryListValues = append(c.BinaryListValues, bytes.Clone(b))
	}
	return c
}

func cloneString(p *string) *string {
	if p == nil {
		return nil
	}
	s := *p
	return &s
}

// messageSize is the size of a message as SQS counts it.
func messageSize(body string, attrs map[string]types.MessageAttributeValue) int {
	n := len(body)
	for name, v := range attrs {
		n += len(name) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}

// sendRequest is what SendMessage and a SendMessageBatch entry have in
// common.
type sendRequest struct {
	body         string
	attrs        map[string]types.MessageAttributeValue
	delaySeconds int32
	groupID      *string
	dedupID      *string
}

// sendLocked checks a message and enqueues it. f.mu must be held.
func (f *SQS) sendLocked(q *queue, r sendRequest) (*message, error) {
	if r.body == "" {
		return nil, &smithy.GenericAPIError{Code: "MissingParameter", Message: "The request must contain the parameter MessageBody.", Fault: smithy.FaultClient}
	}
	if len(r.attrs) > MaxMessageAttributes {
		return nil, invalidParameter("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(r.attrs), MaxMessageAttributes)
	}
	for name, v := range r.attrs {
		if aws.ToString(v.DataType) == "" {
			return nil, invalidParameter("The message attribute '%s' must contain a non-empty attribute type.", name)
		}
	}
	if limit, size := q.intAttr("MaximumMessageSize", DefaultMaximumMessageSize), messageSize(r.body, r.attrs); size > limit {
		return nil, invalidParameter("One or more parameters are invalid. Reason: Message must be shorter than %d bytes (it is %d).", limit, size)
	}
	now := f.now()
	m := &message{q: q, id: uuid.NewString(), body: r.body, attrs: copyAttributes(r.attrs), sent: now,
		visibleAt: now.Add(time.Duration(r.delaySeconds) * time.Second)}
	if q.fifo() {
		if aws.ToString(r.groupID) == "" {
			return nil, &smithy.GenericAPIError{Code: "MissingParameter", Message: "The request must contain the parameter MessageGroupId.", Fault: smithy.FaultClient}
		}
		dedup := aws.ToString(r.dedupID)
		if dedup == "" {
			if q.attrs["ContentBasedDeduplication"] != "true" {
				return nil, invalidParameter("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly")
			}
			sum := sha256.Sum256([]byte(r.body))
			dedup = hex.EncodeToString(sum[:])
		}
		if prev := q.dedup[dedup]; prev != nil {
			return prev, nil // accepted, not enqueued again
		}
		m.groupID, m.dedupID = cloneString(r.groupID), aws.String(dedup)
		q.dedup[dedup] = m
	}
	q.msgs = append(q.msgs, m)
	return m, nil
}

// SendMessage enqueues a message.
func (f *SQS) SendMessage(ctx context.Context, params *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return call(ctx, f.Log, "SQS", "SendMessage", params, optFns, f.SendMessageFn, f.sendMessage)
}

func (f *SQS) sendMessage(params *sqs.SendMessageInput) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.queueLocked(aws.ToString(params.QueueUrl))
	if err != nil {
		return nil, err
	}
	m, err := f.sendLocked(q, sendRequest{
		body: aws.ToString(params.MessageBody), attrs: params.MessageAttributes, delaySeconds: params.DelaySeconds,
		groupID: params.MessageGroupId, dedupID: params.MessageDeduplicationId,
	})
	if err != nil {
		return nil, err
	}
	return &sqs.SendMessageOutput{MessageId: aws.String(m.id), MD5OfMessageBody: aws.String(md5Hex(m.body))}, nil
}

// checkBatchShape returns the error SQS gives a batch with no entries, too
// many, or repeated ids.
func checkBatchShape(n int, id func(int) string) error {
	if n == 0 {
		return &types.EmptyBatchRequest{Message: aws.String("There should be at least one entry in the request.")}
	}
	if n > MaxBatchEntries {
		return &types.TooManyEntriesInBatchRequest{Message: aws.String(fmt.Sprintf("Maximum number of entries per request are %d. You have sent %d.", MaxBatchEntries, n))}
	}
	seen := map[string]bool{}
	for i := range n {
		if seen[id(i)] {
			return &types.BatchEntryIdsNotDistinct{Message: aws.String(fmt.Sprintf("Id %s repeated.", id(i)))}
		}
		seen[id(i)] = true
	}
	return nil
}

func failed(id *string, code string, senderFault bool, msg string) types.BatchResultErrorEntry {
	return types.BatchResultErrorEntry{Id: cloneString(id), Code: aws.String(code), SenderFault: senderFault, Message: aws.String(msg)}
}

func errorCode(err error) (code, msg string) {
	if ae, ok := err.(smithy.APIError); ok {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "InternalError", err.Error()
}

// SendMessageBatch enqueues up to 10 messages. An entry that SendMessage
// would refuse becomes a Failed entry; a request whose total size exceeds
// MaxBatchSize fails with *types.BatchRequestTooLong.
func (f *SQS) SendMessageBatch(ctx context.Context, params *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	return call(ctx, f.Log, "SQS", "SendMessageBatch", params, optFns, f.SendMessageBatchFn, f.sendMessageBatch)
}

func (f *SQS) sendMessageBatch(params *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.queueLocked(aws.ToString(params.QueueUrl))
	if err != nil {
		return nil, err
	}
	entries := params.Entries
	if err := checkBatchShape(len(entries), func(i int) string { return aws.ToString(entries[i].Id) }); err != nil {
		return nil, err
	}
	total := 0
	for _, e := range entries {
		total += messageSize(aws.ToString(e.MessageBody), e.MessageAttributes)
	}
	if total > MaxBatchSize {
		return nil, &types.BatchRequestTooLong{Message: aws.String(fmt.Sprintf("Batch requests cannot be longer than %d bytes. You have sent %d bytes.", MaxBatchSize, total))}
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range entries {
		m, err := f.sendLocked(q, sendRequest{
			body: aws.ToString(e.MessageBody), attrs: e.MessageAttributes, delaySeconds: e.DelaySeconds,
			groupID: e.MessageGroupId, dedupID: e.MessageDeduplicationId,
		})
		if err != nil {
			code, msg := errorCode(err)
			out.Failed = append(out.Failed, failed(e.Id, code, true, msg))
			continue
		}
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{
			Id: cloneString(e.Id), MessageId: aws.String(m.id), MD5OfMessageBody: aws.String(md5Hex(m.body)),
		})
	}
	return out, nil
}

// wantsAttribute reports whether a MessageAttributeNames list asks for name.
func wantsAttribute(names []string, name string) bool {
	for _, n := range names {
		if n == "All" || n == ".*" || n == name {
			return true
		}
		if prefix, ok := strings.CutSuffix(n, ".*"); ok && strings.HasPrefix(name, prefix+".") {
			return true
		}
	}
	return false
}

func wantsSystemAttribute(names []string, name string) bool {
	return slices.Contains(names, "All") || slices.Contains(names, name)
}

func newReceiptHandle() string {
	b := make([]byte, 48)
	rand.Read(b)
	return "AQEB" + base64.StdEncoding.EncodeToString(b)
}

// ReceiveMessage returns visible messages and hides them.
func (f *SQS) ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return call(ctx, f.Log, "SQS", "ReceiveMessage", params, optFns, f.ReceiveMessageFn, f.receiveMessage)
}

func (f *SQS) receiveMessage(params *sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.queueLocked(aws.ToString(params.QueueUrl))
	if err != nil {
		return nil, err
	}
	limit := int(params.MaxNumberOfMessages)
	if limit == 0 {
		limit = 1
	}
	if limit < 1 || limit > 10 {
		return nil, invalidParameter("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.", limit)
	}
	timeout := int(params.VisibilityTimeout)
	if timeout == 0 {
		timeout = q.intAttr("VisibilityTimeout", 30)
	}
	var sysNames []string
	for _, n := range params.MessageSystemAttributeNames {
		sysNames = append(sysNames, string(n))
	}
	//lint:ignore SA1019 callers may still use the deprecated field, so the fake honours it as SQS does.
	for _, n := range params.AttributeNames {
		sysNames = append(sysNames, string(n))
	}
	now := f.now()
	out := &sqs.ReceiveMessageOutput{}
	for _, m := range q.msgs {
		if len(out.Messages) == limit {
			break
		}
		if m.visibleAt.After(now) {
			continue
		}
		m.received++
		m.handle = newReceiptHandle()
		m.handles = append(m.handles, m.handle)
		f.handles[m.handle] = m
		m.visibleAt = now.Add(time.Duration(timeout) * time.Second)
		msg := types.Message{
			MessageId:     aws.String(m.id),
			ReceiptHandle: aws.String(m.handle),
			Body:          aws.String(m.body),
			MD5OfBody:     aws.String(md5Hex(m.body)),
		}
		for name, v := range m.attrs {
			if wantsAttribute(params.MessageAttributeNames, name) {
				if msg.MessageAttributes == nil {
					msg.MessageAttributes = map[string]types.MessageAttributeValue{}
				}
				msg.MessageAttributes[name] = copyAttribute(v)
			}
		}
		sys := map[string]string{
			"ApproximateReceiveCount": strconv.Itoa(m.received),
			"SentTimestamp":           strconv.FormatInt(m.sent.UnixMilli(), 10),
		}
		if m.groupID != nil {
			sys["MessageGroupId"] = *m.groupID
		}
		if m.dedupID != nil {
			sys["MessageDeduplicationId"] = *m.dedupID
		}
		for name, v := range sys {
			if wantsSystemAttribute(sysNames, name) {
				if msg.Attributes == nil {
					msg.Attributes = map[string]string{}
				}
				msg.Attributes[name] = v
			}
		}
		out.Messages = append(out.Messages, msg)
	}
	return out, nil
}

// messageLocked finds the message a receipt handle names in the queue at
// queueURL. f.mu must be held.
func (f *SQS) messageLocked(queueURL, handle string) (*message, error) {
	m := f.handles[handle]
	if m == nil || m.q.url != queueURL {
		return nil, &types.ReceiptHandleIsInvalid{Message: aws.String(fmt.Sprintf("The input receipt handle %q is not a valid receipt handle.", handle))}
	}
	return m, nil
}

// removeLocked removes m from its queue and forgets its handles. f.mu must
// be held.
func (f *SQS) removeLocked(m *message) {
	m.q.msgs = slices.DeleteFunc(m.q.msgs, func(x *message) bool { return x == m })
	for _, h := range m.handles {
		delete(f.handles, h)
	}
}

// DeleteMessage removes the message a receipt handle names.
func (f *SQS) DeleteMessage(ctx context.Context, params *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	return call(ctx, f.Log, "SQS", "DeleteMessage", params, optFns, f.DeleteMessageFn, f.deleteMessage)
}

func (f *SQS) deleteMessage(params *sqs.DeleteMessageInput) (*sqs.DeleteMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.queueLocked(aws.ToString(params.QueueUrl)); err != nil {
		return nil, err
	}
	m, err := f.messageLocked(aws.ToString(params.QueueUrl), aws.ToString(params.ReceiptHandle))
	if err != nil {
		return nil, err
	}
	f.removeLocked(m)
	return &sqs.DeleteMessageOutput{}, nil
}

// DeleteMessageBatch removes up to 10 messages; an unknown handle gives a
// Failed entry with code ReceiptHandleIsInvalid.
func (f *SQS) DeleteMessageBatch(ctx context.Context, params *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	return call(ctx, f.Log, "SQS", "DeleteMessageBatch", params, optFns, f.DeleteMessageBatchFn, f.deleteMessageBatch)
}

func (f *SQS) deleteMessageBatch(params *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	url := aws.ToString(params.QueueUrl)
	done, fails, err := handleBatchLocked(f, url, params.Entries,
		func(e types.DeleteMessageBatchRequestEntry) (*string, string) {
			return e.Id, aws.ToString(e.ReceiptHandle)
		},
		func(m *message, _ types.DeleteMessageBatchRequestEntry) error {
			f.removeLocked(m)
			return nil
		})
	if err != nil {
		return nil, err
	}
	out := &sqs.DeleteMessageBatchOutput{Failed: fails}
	for _, id := range done {
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: id})
	}
	return out, nil
}

// changeVisibilityLocked sets the visibility timeout of the message handle
// names. f.mu must be held.
func (f *SQS) changeVisibilityLocked(url, handle string, timeout int32) error {
	m, err := f.messageLocked(url, handle)
	if err != nil {
		return err
	}
	return f.setVisibilityLocked(m, timeout)
}

// setVisibilityLocked sets the visibility timeout of m. f.mu must be held.
func (f *SQS) setVisibilityLocked(m *message, timeout int32) error {
	if timeout < 0 || timeout > 43200 {
		return invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.", timeout)
	}
	m.visibleAt = f.now().Add(time.Duration(timeout) * time.Second)
	return nil
}

// ChangeMessageVisibility sets the visibility timeout of the message a
// receipt handle names; 0 makes it visible at once.
func (f *SQS) ChangeMessageVisibility(ctx context.Context, params *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	return call(ctx, f.Log, "SQS", "ChangeMessageVisibility", params, optFns, f.ChangeMessageVisibilityFn, f.changeMessageVisibility)
}

func (f *SQS) changeMessageVisibility(params *sqs.ChangeMessageVisibilityInput) (*sqs.ChangeMessageVisibilityOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	url := aws.ToString(params.QueueUrl)
	if _, err := f.queueLocked(url); err != nil {
		return nil, err
	}
	if err := f.changeVisibilityLocked(url, aws.ToString(params.ReceiptHandle), params.VisibilityTimeout); err != nil {
		return nil, err
	}
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// ChangeMessageVisibilityBatch sets the visibility timeout of up to 10
// messages; an unknown handle gives a Failed entry.
func (f *SQS) ChangeMessageVisibilityBatch(ctx context.Context, params *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	return call(ctx, f.Log, "SQS", "ChangeMessageVisibilityBatch", params, optFns, f.ChangeMessageVisibilityBatchFn, f.changeMessageVisibilityBatch)
}

func (f *SQS) changeMessageVisibilityBatch(params *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	done, fails, err := handleBatchLocked(f, aws.ToString(params.QueueUrl), params.Entries,
		func(e types.ChangeMessageVisibilityBatchRequestEntry) (*string, string) {
			return e.Id, aws.ToString(e.ReceiptHandle)
		},
		func(m *message, e types.ChangeMessageVisibilityBatchRequestEntry) error {
			return f.setVisibilityLocked(m, e.VisibilityTimeout)
		})
	if err != nil {
		return nil, err
	}
	out := &sqs.ChangeMessageVisibilityBatchOutput{Failed: fails}
	for _, id := range done {
		out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: id})
	}
	return out, nil
}

// handleBatchLocked applies do to the message of each entry of a batch of
// receipt handles on the queue at url (key gives an entry's id and
// handle), after checking the queue and the batch's shape as SQS does. It
// returns the ids of the entries done and a Failed entry for each handle
// that names no message in flight or that do refused. f.mu must be held.
func handleBatchLocked[E any](f *SQS, url string, entries []E, key func(E) (*string, string), do func(*message, E) error) ([]*string, []types.BatchResultErrorEntry, error) {
	if _, err := f.queueLocked(url); err != nil {
		return nil, nil, err
	}
	if err := checkBatchShape(len(entries), func(i int) string { id, _ := key(entries[i]); return aws.ToString(id) }); err != nil {
		return nil, nil, err
	}
	var done []*string
	var fails []types.BatchResultErrorEntry
	for _, e := range entries {
		id, handle := key(e)
		m, err := f.messageLocked(url, handle)
		if err == nil {
			err = do(m, e)
		}
		if err != nil {
			code, msg := errorCode(err)
			fails = append(fails, failed(id, code, true, msg))
			continue
		}
		done = append(done, cloneString(id))
	}
	return done, fails, nil
}

// GetQueueAttributes returns the attributes AttributeNames asks for ("All"
// for every one).
func (f *SQS) GetQueueAttributes(ctx context.Context, params *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return call(ctx, f.Log, "SQS", "GetQueueAttributes", params, optFns, f.GetQueueAttributesFn, f.getQueueAttributes)
}

func (f *SQS) getQueueAttributes(params *sqs.GetQueueAttributesInput) (*sqs.GetQueueAttributesOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.queueLocked(aws.ToString(params.QueueUrl))
	if err != nil {
		return nil, err
	}
	all := maps.Clone(q.attrs)
	now := f.now()
	visible, hidden := 0, 0
	for _, m := range q.msgs {
		if m.visibleAt.After(now) {
			hidden++
		} else {
			visible++
		}
	}
	all["ApproximateNumberOfMessages"] = strconv.Itoa(visible)
	all["ApproximateNumberOfMessagesNotVisible"] = strconv.Itoa(hidden)
	out := &sqs.GetQueueAttributesOutput{Attributes: map[string]string{}}
	for _, n := range params.AttributeNames {
		if n == types.QueueAttributeNameAll {
			out.Attributes = all
			break
		}
		if v, ok := all[string(n)]; ok {
			out.Attributes[string(n)] = v
		}
	}
	return out, nil
}
