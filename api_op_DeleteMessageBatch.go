package sqsx

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// DeleteMessageBatch deletes up to 10 messages, as
// [sqs.Client.DeleteMessageBatch] does, and then the payloads of the entries
// SQS reports as deleted: one DeleteObjects request per bucket. Entries SQS
// reports as failed keep their payloads, so they can be retried.
//
// An entry whose receipt handle is malformed or names an object outside
// AllowedBuckets and AllowedKeyPrefixes becomes a Failed entry
// (CodeInvalidReceiptHandle, CodeBucketNotAllowed, CodeKeyNotAllowed) and is
// not sent. If the SQS call fails ambiguously, the payloads are kept and the
// error is a *payload.KeptError naming them. If the messages are deleted but some
// payloads are not, the output is returned together with an error that joins
// a *PayloadError per object. params is not modified.
func (c *Client) DeleteMessageBatch(ctx context.Context, params *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	if params == nil || len(params.Entries) == 0 {
		return c.api.DeleteMessageBatch(ctx, params, optFns...)
	}
	const op = "DeleteMessageBatch"
	ctx, span := c.startDelete(ctx, op, aws.ToString(params.QueueUrl), len(params.Entries))
	out, err := c.deleteMessageBatch(ctx, params, optFns)
	span.end(ctx, err)
	return out, err
}

// deleteMessageBatch is DeleteMessageBatch without its span.
func (c *Client) deleteMessageBatch(ctx context.Context, params *sqs.DeleteMessageBatchInput, optFns []func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	in := *params
	in.Entries = make([]types.DeleteMessageBatchRequestEntry, 0, len(params.Entries))
	pointers := map[string]payload.Pointer{}
	var local []types.BatchResultErrorEntry
	for _, e := range params.Entries {
		h, err := c.parseHandle(aws.ToString(e.ReceiptHandle))
		if err != nil {
			local = append(local, *failedEntry(e.Id, CodeFor(err), true, err))
			continue
		}
		if h.HasPointer() {
			pointers[aws.ToString(e.Id)] = h.Pointer
			e.ReceiptHandle = aws.String(h.Original)
		}
		in.Entries = append(in.Entries, e)
	}
	if len(in.Entries) == 0 {
		return &sqs.DeleteMessageBatchOutput{Failed: local}, nil
	}
	var t outcome.Tracker
	out, err := c.api.DeleteMessageBatch(ctx, &in, append(slices.Clip(optFns), tracked(&t))...)
	if err != nil {
		return nil, keptOnDeleteFailure("DeleteMessageBatch", &t, err, slices.Collect(maps.Values(pointers))...)
	}
	out.Failed = append(out.Failed, local...)
	if c.opts.KeepPayloadsOnDelete {
		return out, nil
	}
	var deleted []payload.Pointer
	for _, s := range out.Successful {
		if p, ok := pointers[aws.ToString(s.Id)]; ok {
			deleted = append(deleted, p)
			delete(pointers, aws.ToString(s.Id))
		}
	}
	for _, f := range out.Failed {
		delete(pointers, aws.ToString(f.Id))
	}
	err = c.store.DeleteAll(ctx, deleted)
	if len(pointers) > 0 {
		// Entries the answer names neither as deleted nor as failed (a
		// garbled answer) may have been deleted: their payloads are kept.
		err = errors.Join(err, &payload.KeptError{Op: "DeleteMessageBatch", Pointers: slices.Collect(maps.Values(pointers)), Ambiguous: true,
			Err: errors.New("SQS's answer names some entries neither as successful nor as failed")})
	}
	if err != nil {
		return out, err
	}
	return out, nil
}
