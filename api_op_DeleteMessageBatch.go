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
// reports as failed keep their payloads, so they can be retried. An answer
// garbled on the way that names an entry as both deleted and failed, or as
// neither, keeps that entry's payload too, named in a *payload.KeptError.
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
	verdict := outcome.Entries(slices.Collect(maps.Keys(pointers)), deletedIDs(out), failedIDs(out.Failed))
	out.Failed = append(out.Failed, local...)
	if c.opts.KeepPayloadsOnDelete {
		return out, nil
	}
	var deleted, kept []payload.Pointer
	for id, p := range pointers {
		switch verdict[id] {
		case outcome.Succeeded:
			deleted = append(deleted, p)
		case outcome.Both, outcome.Neither:
			kept = append(kept, p)
		}
	}
	err = c.store.DeleteAll(ctx, deleted)
	if len(kept) > 0 {
		// A garbled answer: those messages may be deleted or not, so their
		// payloads are kept.
		err = errors.Join(err, &payload.KeptError{Op: "DeleteMessageBatch", Pointers: kept, Ambiguous: true,
			Err: errors.New("SQS's answer names some entries neither as successful nor as failed, or as both")})
	}
	if err != nil {
		return out, err
	}
	return out, nil
}

// deletedIDs returns the ids of the entries out reports as deleted.
func deletedIDs(out *sqs.DeleteMessageBatchOutput) []*string {
	ids := make([]*string, len(out.Successful))
	for i, s := range out.Successful {
		ids[i] = s.Id
	}
	return ids
}

// failedIDs returns the ids of failed entries.
func failedIDs(fs []types.BatchResultErrorEntry) []*string {
	ids := make([]*string, len(fs))
	for i, f := range fs {
		ids[i] = f.Id
	}
	return ids
}
