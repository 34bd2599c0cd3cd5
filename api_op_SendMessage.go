package sqsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/outcome"
)

// SendMessage sends a message, as [sqs.Client.SendMessage] does. A message
// larger than the threshold (or any message, with AlwaysThroughS3) has its
// body stored in S3 first and is sent as a pointer with a size attribute.
//
// Before anything is sent, an empty body or a reserved attribute set by the
// caller is an *InputError; an offloaded message may have at most 9
// attributes.
//
// If SQS definitely refused an offloaded message (a 4xx, or no request
// written), its S3 object is deleted before the error is returned. If the
// failure is ambiguous (a 5xx, a reset or timeout after the request was
// written, ctx's deadline), SQS may have queued the message, so the object is
// kept and the error is a *payload.KeptError naming it: deleting it could
// leave a live message without its body, while an object that no message
// points to is only storage, which the lifecycle rule removes. params is not
// modified.
//
// A send that a FIFO queue drops as a duplicate (same deduplication id within
// the 5-minute window) still uploads a payload, because SQS reports such a send
// as a success; nothing refers to that object, so expire payloads with an S3
// lifecycle rule on the key prefix. The Java and Python clients behave alike.
func (c *Client) SendMessage(ctx context.Context, params *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	const op = "SendMessage"
	if params == nil {
		params = &sqs.SendMessageInput{}
	}
	body := aws.ToString(params.MessageBody)
	if field, err := checkMessage(body, params.MessageAttributes); err != nil {
		return nil, &InputError{Op: op, Field: field, Err: err}
	}
	queueURL := aws.ToString(params.QueueUrl)
	threshold, err := c.threshold(ctx, op, queueURL, optFns)
	if err != nil {
		return nil, err
	}
	if !c.opts.AlwaysThroughS3 && messageSize(body, params.MessageAttributes) <= threshold {
		return c.sqs.SendMessage(ctx, params, optFns...)
	}
	if field, err := c.checkOffload(params.MessageAttributes, threshold); err != nil {
		return nil, &InputError{Op: op, Field: field, Err: err}
	}
	off, err := c.prepareOffload(ctx, body, params.MessageAttributes)
	if err != nil {
		return nil, err
	}
	if err := checkWireSize(off, threshold); err != nil {
		return nil, &InputError{Op: op, Field: "MessageAttributes", Err: err}
	}
	if err := c.store.PutAt(ctx, off.pointer, body); err != nil {
		return nil, err
	}
	in := *params
	in.MessageBody = aws.String(off.body)
	in.MessageAttributes = off.attrs
	in.MessageDeduplicationId = c.dedupID(ctx, queueURL, params.MessageDeduplicationId, body, optFns)
	var t outcome.Tracker
	return offload.Send(ctx, c.store, op, c.sqs.SendMessage, &in, optFns, tracked, &t, off.pointer)
}
