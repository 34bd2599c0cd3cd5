package sqsx

import (
	"cmp"
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/internal/offload"
)

// SendMessage sends a message, as [sqs.Client.SendMessage] does. A message
// larger than the threshold (or any message, with AlwaysThroughS3) has its
// body stored in S3 first and is sent as a pointer with a size attribute.
// GetOffloadMetadata(out.ResultMetadata) says which it was.
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
	ctx, span := c.core.StartSend(ctx, op, "send", aws.ToString(params.QueueUrl), 0)
	out, err := c.sendMessage(ctx, op, propagate(span, params), optFns)
	if err != nil {
		span.End(ctx, nil, nil, err)
		return nil, err
	}
	span.End(ctx, &out.ResultMetadata, out.MessageId, nil)
	return out, nil
}

// sendMessage is SendMessage without its span.
func (c *Client) sendMessage(ctx context.Context, op string, params *sqs.SendMessageInput, optFns []func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	m := message{Body: aws.ToString(params.MessageBody), Attrs: params.MessageAttributes}
	if err := c.core.Check(op, m); err != nil {
		return nil, err
	}
	queueURL := aws.ToString(params.QueueUrl)
	call, optFns, err := c.call(ctx, op, queueURL, optFns)
	if err != nil {
		return nil, err
	}
	return c.sendOp(op, params).Send(ctx, c.core, m, call, optFns, c.contentDedup(ctx, params, optFns))
}

// sendOp is SQS SendMessage, as package offload drives it, for params
// under the name op.
func (c *Client) sendOp(op string, params *sqs.SendMessageInput) offload.Op[types.MessageAttributeValue, *sqs.SendMessageInput, *sqs.SendMessageOutput, sqs.Options] {
	input := func(w *offload.Wire[types.MessageAttributeValue], dedupID *string) *sqs.SendMessageInput {
		if w == nil {
			return params
		}
		in := *params
		in.MessageBody, in.MessageAttributes, in.MessageDeduplicationId = &w.Body, w.Attrs, cmp.Or(dedupID, params.MessageDeduplicationId)
		return &in
	}
	metadata := func(out *sqs.SendMessageOutput) *middleware.Metadata { return &out.ResultMetadata }
	return offload.Op[types.MessageAttributeValue, *sqs.SendMessageInput, *sqs.SendMessageOutput, sqs.Options]{
		Name: op, Call: c.api.SendMessage, Install: tracked, Input: input, Metadata: metadata,
	}
}
