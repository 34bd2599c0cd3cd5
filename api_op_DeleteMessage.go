package sqsx

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// DeleteMessage deletes a message, as [sqs.Client.DeleteMessage] does, and
// then its payload. SQS is called first, with the original receipt handle, so
// that a failed or expired delete never leaves a message whose payload is gone.
// The payload is kept if KeepPayloadsOnDelete is set.
//
// If the message is deleted but its payload is not, DeleteMessage returns the
// SQS output together with a *PayloadError: the message is gone and the
// object stays until a lifecycle rule or a retry removes it. If SQS fails
// ambiguously (the message may or may not be deleted), the payload is kept
// and the error is a *payload.KeptError naming it; retrying with the same
// handle deletes both. A receipt handle that names an object outside
// AllowedBuckets and AllowedKeyPrefixes is refused before SQS is called.
// params is not modified.
func (c *Client) DeleteMessage(ctx context.Context, params *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	const op = "DeleteMessage"
	if params == nil {
		return c.api.DeleteMessage(ctx, params, optFns...)
	}
	ctx, span := c.startDelete(ctx, op, aws.ToString(params.QueueUrl), 0)
	out, err := c.deleteMessage(ctx, op, params, optFns)
	span.end(ctx, err)
	return out, err
}

// deleteMessage is DeleteMessage without its span.
func (c *Client) deleteMessage(ctx context.Context, op string, params *sqs.DeleteMessageInput, optFns []func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	h, err := c.parseHandle(aws.ToString(params.ReceiptHandle))
	if err != nil {
		return nil, &InputError{Op: op, Field: "ReceiptHandle", Err: err}
	}
	if !h.HasPointer() {
		return c.api.DeleteMessage(ctx, params, optFns...)
	}
	in := *params
	in.ReceiptHandle = aws.String(h.Original)
	var t outcome.Tracker
	out, err := c.api.DeleteMessage(ctx, &in, append(slices.Clip(optFns), tracked(&t))...)
	if err != nil {
		return nil, keptOnDeleteFailure(op, &t, err, h.Pointer)
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
// may be deleted by this client: a handle can name only an object that a
// pointer was allowed to name (AllowedBuckets, AllowedKeyPrefixes).
func (c *Client) parseHandle(s string) (payload.ReceiptHandle, error) {
	h, err := payload.ParseReceiptHandle(s)
	if err != nil {
		return h, err
	}
	if h.HasPointer() && !c.opts.KeepPayloadsOnDelete {
		if err := c.store.Check(h.Pointer); err != nil {
			return h, &PayloadError{Op: "DeleteObject", Bucket: h.Pointer.Bucket, Key: h.Pointer.Key, Err: err}
		}
	}
	return h, nil
}

// keptOnDeleteFailure returns the error of a delete call that failed. If the
// failure was ambiguous, SQS may have deleted the messages, whose payloads are
// then left: it says so with a *payload.KeptError naming them. After a
// definite rejection the messages, and so their payloads, are still there.
func keptOnDeleteFailure(op string, t *outcome.Tracker, err error, ps ...payload.Pointer) error {
	if len(ps) == 0 || t.Definite(err) {
		return err
	}
	return &payload.KeptError{Op: op, Pointers: ps, Ambiguous: true, Err: err}
}
