package sqsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx/payload"
)

// DeleteMessage deletes a message, as [sqs.Client.DeleteMessage] does, and
// then its payload. SQS is called first, with the original receipt handle, so
// that a failed or expired delete never leaves a message whose payload is gone.
// The payload is kept if KeepPayloadsOnDelete is set.
//
// If the message is deleted but its payload is not, DeleteMessage returns the
// SQS output together with a *PayloadError: the message is gone and the
// object stays until a lifecycle rule or a retry removes it. A receipt handle
// that names a bucket outside AllowedBuckets is refused before SQS is called.
// params is not modified.
func (c *Client) DeleteMessage(ctx context.Context, params *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	const op = "DeleteMessage"
	if params == nil {
		return c.sqs.DeleteMessage(ctx, params, optFns...)
	}
	h, err := c.parseHandle(aws.ToString(params.ReceiptHandle))
	if err != nil {
		return nil, &InputError{Op: op, Field: "ReceiptHandle", Err: err}
	}
	if !h.HasPointer() {
		return c.sqs.DeleteMessage(ctx, params, optFns...)
	}
	in := *params
	in.ReceiptHandle = aws.String(h.Original)
	out, err := c.sqs.DeleteMessage(ctx, &in, optFns...)
	if err != nil {
		return nil, err
	}
	if c.opts.KeepPayloadsOnDelete {
		return out, nil
	}
	if err := c.store.Delete(ctx, h.Pointer); err != nil {
		return out, err
	}
	return out, nil
}

// parseHandle splits a receipt handle and checks that its payload, if any,
// may be deleted by this client.
func (c *Client) parseHandle(s string) (payload.ReceiptHandle, error) {
	h, err := payload.ParseReceiptHandle(s)
	if err != nil {
		return h, err
	}
	if h.HasPointer() && !c.opts.KeepPayloadsOnDelete && !c.store.Allowed(h.Pointer.Bucket) {
		return h, &PayloadError{Op: "DeleteObject", Bucket: h.Pointer.Bucket, Key: h.Pointer.Key,
			Err: ErrBucketNotAllowed}
	}
	return h, nil
}
