package snsx

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/batchplan"
	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// batchEntry is the plan for one entry of a PublishBatch call.
type batchEntry struct {
	batchplan.Item
	in      types.PublishBatchRequestEntry // what is sent to SNS
	body    string                         // the original message
	off     *offloaded                     // set when the body goes to S3
	failure *types.BatchResultErrorEntry   // why the entry is not sent
}

// fail marks the entry as not sent, with the Failed entry that says why.
func (be *batchEntry) fail(f *types.BatchResultErrorEntry) { be.Failed, be.failure = true, f }

// PublishBatch publishes up to 10 messages, as [sns.Client.PublishBatch]
// does. Each entry above the threshold is offloaded to S3; then, while the
// batch's total size is over BatchSizeLimit, the largest remaining entry is
// offloaded too. Uploads run concurrently, at most Concurrency at a time.
//
// A problem with one entry (a reserved attribute, an empty message, too many
// attributes, MessageStructure "json", a failed upload) makes it a Failed
// entry with one of the sqsx Code constants, and the rest of the batch is
// still published. Payloads of entries that SNS reports as failed are
// deleted (unless an earlier attempt of the call, whose answer was lost, may
// have published them). If the SNS call itself fails, the call's uploads are
// handled as in Publish: deleted after a definite rejection, kept and named
// in a *payload.KeptError after an ambiguous failure. Requests SNS rejects as a whole (no entries, more than 10, repeated
// ids) are passed to SNS unchanged. params is not modified.
func (c *Client) PublishBatch(ctx context.Context, params *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	if params == nil || !batchplan.Acceptable(params.PublishBatchRequestEntries, func(e types.PublishBatchRequestEntry) *string { return e.Id }) {
		return c.sns.PublishBatch(ctx, params, optFns...)
	}
	const op = "PublishBatch"
	entries := make([]*batchEntry, len(params.PublishBatchRequestEntries))
	items := make([]*batchplan.Item, len(params.PublishBatchRequestEntries))
	for i, e := range params.PublishBatchRequestEntries {
		be := &batchEntry{in: e, body: aws.ToString(e.Message)}
		be.Size = messageSize(be.body, e.MessageAttributes)
		entries[i], items[i] = be, &be.Item
		if _, err := checkMessage(be.body, e.MessageAttributes); err != nil {
			be.fail(failedEntry(e.Id, err))
			continue
		}
		_, offErr := c.checkOffload(e.MessageStructure, e.MessageAttributes)
		be.Fixed = offErr != nil
		if c.offload(e.MessageStructure, be.Size) {
			if offErr != nil {
				be.fail(failedEntry(e.Id, offErr))
				continue
			}
			if err := c.planOffload(ctx, be); errors.Is(err, sqsx.ErrAttributesTooLarge) {
				be.fail(failedEntry(e.Id, err))
			} else if err != nil {
				return nil, err
			}
		}
	}
	// Offload the largest entries until the whole batch fits.
	if err := batchplan.Fit(items, c.opts.BatchSizeLimit, func(i int) error {
		if err := c.planOffload(ctx, entries[i]); !errors.Is(err, sqsx.ErrAttributesTooLarge) {
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
			be.fail(&types.BatchResultErrorEntry{
				Id: be.in.Id, Code: aws.String(sqsx.CodePayloadUploadFailed),
				Message: aws.String(fmt.Sprintf("snsx: %v", err)),
			})
		}
		return err
	})
	var uploaded []payload.Pointer
	for _, i := range done {
		uploaded = append(uploaded, entries[i].off.pointer)
	}
	if err != nil {
		// Cancelled before SNS was called: nothing can point to them.
		return nil, c.store.Discard(ctx, op, true, err, uploaded...)
	}
	in := *params
	in.PublishBatchRequestEntries = make([]types.PublishBatchRequestEntry, 0, len(entries))
	var local []types.BatchResultErrorEntry
	byID := make(map[string]*batchEntry, len(entries))
	for _, be := range entries {
		if be.Failed {
			local = append(local, *be.failure)
			continue
		}
		byID[aws.ToString(be.in.Id)] = be
		in.PublishBatchRequestEntries = append(in.PublishBatchRequestEntries, be.in)
	}
	if len(in.PublishBatchRequestEntries) == 0 {
		return &sns.PublishBatchOutput{Failed: local}, nil
	}
	var t outcome.Tracker
	out, err := offload.Send(ctx, c.store, op, c.sns.PublishBatch, &in, optFns, tracked, &t, uploaded...)
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

// planOffload picks the key for an entry and rewrites what will be sent,
// leaving the entry as it was on error.
func (c *Client) planOffload(ctx context.Context, be *batchEntry) error {
	off, err := c.prepareOffload(ctx, be.body, be.in.MessageAttributes)
	if err != nil {
		return err
	}
	be.off, be.Offloaded = &off, true
	be.in.Message = aws.String(off.body)
	be.in.MessageAttributes = off.attrs
	be.Size = messageSize(off.body, off.attrs)
	return nil
}

// failedEntry returns the Failed entry for a validation error.
func failedEntry(id *string, err error) *types.BatchResultErrorEntry {
	code := sqsx.CodeFor(err)
	if errors.Is(err, ErrMessageStructureJSON) {
		code = CodeMessageStructureJSON
	}
	return &types.BatchResultErrorEntry{
		Id: id, Code: aws.String(code), SenderFault: true,
		Message: aws.String(fmt.Sprintf("snsx: %v", err)),
	}
}

// CodeMessageStructureJSON is the code of a Failed entry whose message has
// MessageStructure "json" and would need offloading.
const CodeMessageStructureJSON = "MessageStructureJSONTooLarge"
