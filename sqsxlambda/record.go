package sqsxlambda

import (
	"context"
	"maps"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
)

// Resolve resolves one record of an SQS event in place, as
// [sqsx.Client.ReceiveMessage] resolves a received message: for an offloaded
// record (a pointer body with the reserved size attribute, which is how
// direct SQS sends and SNS raw deliveries arrive) it replaces the body with
// the payload, removes the reserved attribute and makes the receipt handle
// name the payload, so that [sqsx.Client.DeleteMessage] with it would delete
// both. A record delivered by SNS without raw delivery (an SNS envelope whose
// Message is a pointer) is resolved as the client's Options.SNSEnvelope says,
// and keeps its receipt handle. It reports whether r was offloaded; a record
// that carries its body itself is left as it is.
//
// On error r is left as it was, and [sqsx.UnresolvedCode](err) says why. The
// client's Options.Unresolved does not apply: what to report is the caller's
// choice ([New] follows [Options.Unresolved]).
func Resolve(ctx context.Context, c *sqsx.Client, r *events.SQSMessage) (offloaded bool, err error) {
	m := toMessage(r)
	offloaded, err = c.ResolveMessage(ctx, &m)
	if err != nil || !offloaded {
		return offloaded, err
	}
	fromMessage(r, &m)
	return true, nil
}

// toMessage returns r as ReceiveMessage would have returned it. The maps are
// new, so resolving the message never changes r.
func toMessage(r *events.SQSMessage) types.Message {
	m := types.Message{
		MessageId:     aws.String(r.MessageId),
		ReceiptHandle: aws.String(r.ReceiptHandle),
		Body:          aws.String(r.Body),
		MD5OfBody:     aws.String(r.Md5OfBody),
		Attributes:    maps.Clone(r.Attributes),
	}
	if r.Md5OfMessageAttributes != "" {
		m.MD5OfMessageAttributes = aws.String(r.Md5OfMessageAttributes)
	}
	if len(r.MessageAttributes) > 0 {
		m.MessageAttributes = make(map[string]types.MessageAttributeValue, len(r.MessageAttributes))
		for name, a := range r.MessageAttributes {
			m.MessageAttributes[name] = types.MessageAttributeValue{
				DataType:         aws.String(a.DataType),
				StringValue:      a.StringValue,
				BinaryValue:      a.BinaryValue,
				StringListValues: a.StringListValues,
				BinaryListValues: a.BinaryListValues,
			}
		}
	}
	return m
}

// fromMessage copies what resolving m changed (body, receipt handle, message
// attributes) back into r, in the event's shape: a record without message
// attributes has an empty map, as Lambda sends it.
func fromMessage(r *events.SQSMessage, m *types.Message) {
	r.Body = aws.ToString(m.Body)
	r.ReceiptHandle = aws.ToString(m.ReceiptHandle)
	attrs := make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
	for name, a := range m.MessageAttributes {
		attrs[name] = events.SQSMessageAttribute{
			DataType:         aws.ToString(a.DataType),
			StringValue:      a.StringValue,
			BinaryValue:      a.BinaryValue,
			StringListValues: a.StringListValues,
			BinaryListValues: a.BinaryListValues,
		}
	}
	r.MessageAttributes = attrs
}
