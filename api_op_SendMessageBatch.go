package sqsx

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/internal/batchplan"
	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// batchEntry is the plan for one entry of a SendMessageBatch call.
type batchEntry struct {
	batchplan.Item
	in      types.SendMessageBatchRequestEntry // what is sent to SQS
	body    string                             // the original body
	off     *offloaded                         // set when the body goes to S3
	failure *types.BatchResultErrorEntry       // why the entry is not sent
}

// fail marks the entry as not sent, for the reason given.
func (be *batchEntry) fail(code string, senderFault bool, err error) {
	be.Failed, be.failure = true, failedEntry(be.in.Id, code, senderFault, err)
}

// SendMessageBatch sends up to 10 messages, as [sqs.Client.SendMessageBatch]
// does. Each entry above the threshold is offloaded to S3; then, while the
// batch's total size is over BatchSizeLimit, the largest remaining entry is
// offloaded too, so that the batch fits with the fewest uploads. Uploads run
// concurrently, at most Concurrency at a time.
//
// A problem with one entry (a reserved attribute, an empty body, too many
// attributes for offloading, a failed upload) makes that entry a Failed entry
// with one of the Code constants, and the rest of the batch is still sent.
// Payloads of entries that SQS reports as failed are deleted (unless an
// earlier attempt of the call, whose answer was lost, may have sent them).
// If the SQS call itself fails, the call's uploads are handled as in
// SendMessage: deleted after a definite rejection, kept and named in a
// *payload.KeptError after an ambiguous failure. Requests that SQS
// rejects as a whole (no entries, more than 10, repeated ids) are passed to
// SQS unchanged, so that it returns its usual error. params is not modified.
func (c *Client) SendMessageBatch(ctx context.Context, params *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	if params == nil || !batchplan.Acceptable(params.Entries, func(e types.SendMessageBatchRequestEntry) *string { return e.Id }) {
		return c.sqs.SendMessageBatch(ctx, params, optFns...)
	}
	const op = "SendMessageBatch"
	queueURL := aws.ToString(params.QueueUrl)
	threshold, err := c.threshold(ctx, op, queueURL, optFns)
	if err != nil {
		return nil, err
	}

	entries := make([]*batchEntry, len(params.Entries))
	items := make([]*batchplan.Item, len(params.Entries))
	for i, e := range params.Entries {
		be := &batchEntry{in: e, body: aws.ToString(e.MessageBody)}
		be.Size = messageSize(be.body, e.MessageAttributes)
		entries[i], items[i] = be, &be.Item
		if _, err := checkMessage(be.body, e.MessageAttributes); err != nil {
			be.fail(CodeFor(err), true, err)
			continue
		}
		_, offErr := c.checkOffload(e.MessageAttributes, threshold)
		be.Fixed = offErr != nil
		if c.opts.AlwaysThroughS3 || be.Size > threshold {
			if offErr != nil {
				be.fail(CodeFor(offErr), true, offErr)
				continue
			}
			if err := c.planOffload(ctx, be, threshold); errors.Is(err, ErrAttributesTooLarge) {
				be.fail(CodeAttributesTooLarge, true, err)
			} else if err != nil {
				return nil, err
			}
		}
	}
	// Offload the largest entries until the whole batch fits.
	if err := batchplan.Fit(items, c.opts.BatchSizeLimit, func(i int) error {
		if err := c.planOffload(ctx, entries[i], threshold); !errors.Is(err, ErrAttributesTooLarge) {
			return err
		}
		return nil // Offloading would not make it fit: it stays.
	}); err != nil {
		return nil, err
	}

	done, err := batchplan.Upload(ctx, items, c.opts.Concurrency, func(i int) error {
		be := entries[i]
		err := c.store.PutAt(ctx, be.off.pointer, be.body)
		if err != nil {
			be.fail(CodePayloadUploadFailed, false, err)
		}
		return err
	})
	var uploaded []payload.Pointer
	for _, i := range done {
		uploaded = append(uploaded, entries[i].off.pointer)
	}
	if err != nil {
		// Cancelled before SQS was called: nothing can point to them.
		return nil, c.store.Discard(ctx, op, true, err, uploaded...)
	}

	in := *params
	in.Entries = make([]types.SendMessageBatchRequestEntry, 0, len(entries))
	var local []types.BatchResultErrorEntry
	byID := make(map[string]*batchEntry, len(entries))
	for _, be := range entries {
		if be.Failed {
			local = append(local, *be.failure)
			continue
		}
		if be.off != nil {
			be.in.MessageDeduplicationId = c.dedupID(ctx, queueURL, be.in.MessageDeduplicationId, be.body, optFns)
		}
		byID[aws.ToString(be.in.Id)] = be
		in.Entries = append(in.Entries, be.in)
	}
	if len(in.Entries) == 0 {
		return &sqs.SendMessageBatchOutput{Failed: local}, nil
	}
	var t outcome.Tracker
	out, err := offload.Send(ctx, c.store, op, c.sqs.SendMessageBatch, &in, optFns, tracked, &t, uploaded...)
	if err != nil {
		return nil, err
	}
	var failed []payload.Pointer
	for _, f := range out.Failed {
		if be := byID[aws.ToString(f.Id)]; be != nil && be.off != nil {
			failed = append(failed, be.off.pointer)
		}
	}
	offload.DiscardFailedEntries(ctx, c.store, c.opts.Logger, op, &t, failed)
	out.Failed = append(out.Failed, local...)
	return out, nil
}

// planOffload picks the key for an entry and rewrites what will be sent. It
// leaves the entry as it was if the offloaded form would still be over the
// threshold (ErrAttributesTooLarge).
func (c *Client) planOffload(ctx context.Context, be *batchEntry, threshold int64) error {
	off, err := c.prepareOffload(ctx, be.body, be.in.MessageAttributes)
	if err != nil {
		return err
	}
	if err := checkWireSize(off, threshold); err != nil {
		return err
	}
	be.off, be.Offloaded = &off, true
	be.in.MessageBody = aws.String(off.body)
	be.in.MessageAttributes = off.attrs
	be.Size = messageSize(off.body, off.attrs)
	return nil
}

func failedEntry(id *string, code string, senderFault bool, err error) *types.BatchResultErrorEntry {
	return &types.BatchResultErrorEntry{
		Id:          id,
		Code:        aws.String(code),
		SenderFault: senderFault,
		Message:     aws.String(fmt.Sprintf("sqsx: %v", err)),
	}
}
