package snsx

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"golang.org/x/sync/errgroup"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
)

const maxBatchEntries = 10

// batchEntry is the plan for one entry of a PublishBatch call.
type batchEntry struct {
	in     types.PublishBatchRequestEntry
	body   string
	size   int64
	off    *offloaded
	canOff bool
	failed *types.BatchResultErrorEntry
}

// PublishBatch publishes up to 10 messages, as [sns.Client.PublishBatch]
// does. Each entry above the threshold is offloaded to S3; then, while the
// batch's total size is over BatchSizeLimit, the largest remaining entry is
// offloaded too. Uploads run concurrently, at most Concurrency at a time.
//
// A problem with one entry (a reserved attribute, an empty message, too many
// attributes, MessageStructure "json", a failed upload) makes it a Failed
// entry with one of the sqsx Code constants, and the rest of the batch is
// still published. Payloads of entries that SNS reports as failed are
// deleted, and so are all of the call's uploads if the SNS call itself
// fails. Requests SNS rejects as a whole (no entries, more than 10, repeated
// ids) are passed to SNS unchanged. params is not modified.
func (c *Client) PublishBatch(ctx context.Context, params *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	if params == nil || !batchShapeOK(params.PublishBatchRequestEntries) {
		return c.sns.PublishBatch(ctx, params, optFns...)
	}
	entries := make([]*batchEntry, len(params.PublishBatchRequestEntries))
	for i, e := range params.PublishBatchRequestEntries {
		be := &batchEntry{in: e, body: aws.ToString(e.Message)}
		be.size = messageSize(be.body, e.MessageAttributes)
		entries[i] = be
		if _, err := checkMessage(be.body, e.MessageAttributes); err != nil {
			be.failed = failedEntry(e.Id, err)
			continue
		}
		_, offErr := c.checkOffload(e.MessageStructure, e.MessageAttributes)
		be.canOff = offErr == nil
		if c.offload(e.MessageStructure, be.size) {
			if offErr != nil {
				be.failed = failedEntry(e.Id, offErr)
				continue
			}
			if err := c.planOffload(ctx, be); errors.Is(err, sqsx.ErrAttributesTooLarge) {
				be.failed = failedEntry(e.Id, err)
			} else if err != nil {
				return nil, err
			}
		}
	}
	for batchSize(entries) > c.opts.BatchSizeLimit {
		var largest *batchEntry
		for _, be := range entries {
			if be.failed == nil && be.off == nil && be.canOff && (largest == nil || be.size > largest.size) {
				largest = be
			}
		}
		if largest == nil {
			break // Nothing left to offload: SNS will say the batch is too long.
		}
		if err := c.planOffload(ctx, largest); errors.Is(err, sqsx.ErrAttributesTooLarge) {
			largest.canOff = false
		} else if err != nil {
			return nil, err
		}
	}

	uploaded, err := c.uploadBatch(ctx, entries)
	if err != nil {
		c.cleanup(ctx, uploaded...)
		return nil, err
	}
	in := *params
	in.PublishBatchRequestEntries = make([]types.PublishBatchRequestEntry, 0, len(entries))
	var local []types.BatchResultErrorEntry
	byID := make(map[string]*batchEntry, len(entries))
	for _, be := range entries {
		if be.failed != nil {
			local = append(local, *be.failed)
			continue
		}
		byID[aws.ToString(be.in.Id)] = be
		in.PublishBatchRequestEntries = append(in.PublishBatchRequestEntries, be.in)
	}
	if len(in.PublishBatchRequestEntries) == 0 {
		return &sns.PublishBatchOutput{Failed: local}, nil
	}
	out, err := c.sns.PublishBatch(ctx, &in, optFns...)
	if err != nil {
		c.cleanup(ctx, uploaded...)
		return nil, err
	}
	var orphans []payload.Pointer
	for _, f := range out.Failed {
		if be := byID[aws.ToString(f.Id)]; be != nil && be.off != nil {
			orphans = append(orphans, be.off.pointer)
		}
	}
	c.cleanup(ctx, orphans...)
	out.Failed = append(out.Failed, local...)
	return out, nil
}

func batchShapeOK(entries []types.PublishBatchRequestEntry) bool {
	if len(entries) == 0 || len(entries) > maxBatchEntries {
		return false
	}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		id := aws.ToString(e.Id)
		if seen[id] {
			return false
		}
		seen[id] = true
	}
	return true
}

// planOffload picks the key for an entry and rewrites what will be sent,
// leaving the entry as it was on error.
func (c *Client) planOffload(ctx context.Context, be *batchEntry) error {
	off, err := c.prepareOffload(ctx, be.body, be.in.MessageAttributes)
	if err != nil {
		return err
	}
	be.off = &off
	be.in.Message = aws.String(off.body)
	be.in.MessageAttributes = off.attrs
	be.size = messageSize(off.body, off.attrs)
	return nil
}

func batchSize(entries []*batchEntry) int64 {
	var n int64
	for _, be := range entries {
		if be.failed == nil {
			n += be.size
		}
	}
	return n
}

// uploadBatch uploads the planned payloads, at most Concurrency at a time. A
// failed upload fails its entry only; a cancelled ctx fails the call.
func (c *Client) uploadBatch(ctx context.Context, entries []*batchEntry) ([]payload.Pointer, error) {
	var (
		mu       sync.Mutex
		uploaded []payload.Pointer
		g        errgroup.Group
	)
	g.SetLimit(c.opts.Concurrency)
	for _, be := range entries {
		if be.off == nil || be.failed != nil {
			continue
		}
		g.Go(func() error {
			if err := c.store.PutAt(ctx, be.off.pointer, be.body); err != nil {
				be.failed = &types.BatchResultErrorEntry{
					Id: be.in.Id, Code: aws.String(sqsx.CodePayloadUploadFailed),
					Message: aws.String(fmt.Sprintf("snsx: %v", err)),
				}
				return nil
			}
			mu.Lock()
			uploaded = append(uploaded, be.off.pointer)
			mu.Unlock()
			return nil
		})
	}
	g.Wait()
	return uploaded, ctx.Err()
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
