package consumer

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
)

// Message is a received message as a handler gets it.
type Message struct {
	// ID is SQS's message id.
	ID string
	// Body is the message body: the payload from S3 for an offloaded
	// message. It is empty for RunStream, whose handler reads the body from
	// its reader.
	Body string
	// Size is the size of the body in bytes.
	Size int64
	// Offloaded reports whether the body was stored in S3.
	Offloaded bool
	// Attributes are the message attributes (the reserved sqsx ones
	// removed).
	Attributes map[string]types.MessageAttributeValue
	// SystemAttributes are SQS's system attributes of the message
	// (ApproximateReceiveCount, SentTimestamp, MessageGroupId, ...).
	SystemAttributes map[string]string
	// ReceiveCount is how many times SQS has delivered the message,
	// including this time: 1 on the first receive. With a redrive policy a
	// message whose ReceiveCount reaches maxReceiveCount is on its last
	// try.
	ReceiveCount int
	// FirstReceiveTime is when SQS first delivered the message.
	FirstReceiveTime time.Time
	// SentTime is when the message was sent.
	SentTime time.Time
	// GroupID is the MessageGroupId on a FIFO queue, else "".
	GroupID string
	// Raw is the message as received, with the receipt handle the
	// Consumer uses (which names the payload of an offloaded message) and,
	// for an offloaded message, the pointer body.
	Raw types.Message

	d *delivery
}

// Ack acknowledges the message under AckManual: it is deleted, with its
// payload, in the next DeleteMessageBatch. It may be called from any
// goroutine, before or after the handler returns, while Run runs; calls
// after the first, and calls under the other modes, do nothing.
func (m *Message) Ack() {
	if m.d == nil || m.d.r.c.opts.AckMode != AckManual {
		return
	}
	m.d.r.ack(m.d)
}

// delivery is one received message and what the Consumer holds for it.
type delivery struct {
	r      *run
	id     string    // the message id
	handle *string   // the receipt handle
	recv   time.Time // just before the receive that returned it

	// msg is the Message while it is prefetched and handled; nil after,
	// so that a delivery waiting for its acknowledgement does not keep
	// the body alive.
	msg *Message

	// vmu is held by whoever changes the message's visibility, so that a
	// heartbeat extension and a release never overtake each other.
	vmu      sync.Mutex
	settling bool // under vmu: a final visibility change is queued; no more extensions

	deadline time.Time // under run.hb.mu: when the visibility runs out

	settled atomic.Bool // the outcome was decided (ack, retry, release, or left)
	bytes   int64       // acquired from the byte semaphore
}

// newMessage makes a Message from a received one.
func newMessage(m types.Message) *Message {
	msg := &Message{
		ID:               aws.ToString(m.MessageId),
		Body:             aws.ToString(m.Body),
		Attributes:       m.MessageAttributes,
		SystemAttributes: m.Attributes,
		GroupID:          m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)],
		Raw:              m,
	}
	msg.Size = int64(len(msg.Body))
	if n, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		msg.ReceiveCount = n
	}
	msg.FirstReceiveTime = millis(m.Attributes[string(types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp)])
	msg.SentTime = millis(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)])
	if _, ok, _ := sqsx.PayloadPointer(m); ok {
		msg.Offloaded = true
		msg.Size = -1
		for _, name := range []string{sqsx.AttributeName, sqsx.LegacyAttributeName} {
			if a, ok := m.MessageAttributes[name]; ok {
				if n, err := strconv.ParseInt(aws.ToString(a.StringValue), 10, 64); err == nil && n >= 0 {
					msg.Size = n
				}
			}
		}
		// The handler sees the attributes the sender set, as ReceiveMessage
		// would return them.
		attrs := make(map[string]types.MessageAttributeValue, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			if k != sqsx.AttributeName && k != sqsx.LegacyAttributeName {
				attrs[k] = v
			}
		}
		if len(attrs) == 0 {
			attrs = nil
		}
		msg.Attributes = attrs
	}
	return msg
}

// millis parses a time in milliseconds since the epoch; the zero Time if s
// is not one.
func millis(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}
