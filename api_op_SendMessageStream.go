package sqsx

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SendMessageStream sends a message whose body is read from body, of any
// length, without holding it in memory: at most the threshold is buffered to
// decide whether the message fits in SQS; beyond that the body streams to S3
// as a multipart upload (see payload.Store.PutReader for part size and
// concurrency, payload.StoreOptions.PartSize and UploadConcurrency), and the
// message is sent as a pointer. A body that fits is sent as SendMessage would.
// GetOffloadMetadata(out.ResultMetadata) says which it was.
//
// params.MessageBody must be nil; the other fields are used as SendMessage
// uses them, and the same checks apply. The body's bytes are sent as they are
// (the reference clients read payloads as UTF-8 text; other bytes reach Go
// consumers intact). A failed upload is removed (see payload.Store.PutReaderAt);
// a failed send is handled as in SendMessage.
// On a FIFO queue with content-based deduplication, the deduplication id is
// the SHA-256 of the body, computed as it streams. params is not modified.
func (c *Client) SendMessageStream(ctx context.Context, params *sqs.SendMessageInput, body io.Reader, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	const op = "SendMessageStream"
	if params == nil {
		params = &sqs.SendMessageInput{}
	}
	ctx, span := c.core.StartSend(ctx, op, "send", aws.ToString(params.QueueUrl), 0)
	out, err := c.sendMessageStream(ctx, op, propagate(span, params), body, optFns)
	if err != nil {
		span.End(ctx, nil, nil, err)
		return nil, err
	}
	span.End(ctx, &out.ResultMetadata, out.MessageId, nil)
	return out, nil
}

// sendMessageStream is SendMessageStream without its span.
func (c *Client) sendMessageStream(ctx context.Context, op string, params *sqs.SendMessageInput, body io.Reader, optFns []func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if err := c.core.CheckStream(op, params.MessageBody != nil, body, params.MessageAttributes); err != nil {
		return nil, err
	}
	call, sqsOptFns, err := c.call(ctx, op, aws.ToString(params.QueueUrl), optFns)
	if err != nil {
		return nil, err
	}
	return c.sendOp(op, params).SendStream(ctx, c.core, body, params.MessageAttributes, call, sqsOptFns, c.contentDedup(ctx, params, sqsOptFns),
		func(body string) (*sqs.SendMessageOutput, error) {
			in := *params
			in.MessageBody = aws.String(body)
			return c.sendMessage(ctx, "SendMessage", &in, optFns)
		})
}
