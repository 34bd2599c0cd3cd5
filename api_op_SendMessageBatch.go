package sqsx

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/internal/batchplan"
	"github.com/sqsx/sqsx/internal/offload"
)

// SendMessageBatch sends up to 10 messages, as [sqs.Client.SendMessageBatch]
// does. Each entry above the threshold is offloaded to S3; then, while the
// batch's total size is over BatchSizeLimit, the largest remaining entry is
// offloaded too, so that the batch fits with the fewest uploads. Uploads run
// concurrently, at most Concurrency at a time.
// GetBatchOffloadMetadata(out.ResultMetadata) says what was done with each
// entry sent.
//
// A problem with one entry (a reserved attribute, an empty body, too many
// attributes for offloading, a failed upload) makes that entry a Failed entry
// with one of the Code constants, and the rest of the batch is still sent.
// Payloads of entries that SQS reports as failed are deleted (unless an
// earlier attempt of the call, whose answer was lost, may have sent them).
// An answer garbled on the way that names an entry as both successful and
// failed, or as neither, leaves the entry's payload in S3; one named as
// neither becomes a Failed entry with CodeEntryResultMissing, so that it is
// not taken for sent. If the SQS call itself fails, the call's uploads are
// handled as in SendMessage: deleted after a definite rejection, kept and
// named in a *payload.KeptError after an ambiguous failure. Requests that
// SQS rejects as a whole (no entries, more than 10, repeated ids) are passed
// to SQS unchanged, so that it returns its usual error. params is not
// modified.
func (c *Client) SendMessageBatch(ctx context.Context, params *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	if params == nil || !batchplan.Acceptable(params.Entries, func(e types.SendMessageBatchRequestEntry) *string { return e.Id }) {
		return c.api.SendMessageBatch(ctx, params, optFns...)
	}
	const op = "SendMessageBatch"
	ctx, span := c.core.StartSend(ctx, op, "send", aws.ToString(params.QueueUrl), len(params.Entries))
	out, err := c.sendMessageBatch(ctx, op, params, span, optFns)
	if err != nil {
		span.EndBatch(ctx, nil, err)
		return nil, err
	}
	span.EndBatch(ctx, &out.ResultMetadata, nil)
	return out, nil
}

// sendMessageBatch is SendMessageBatch without its span, which the
// entries' trace context comes from.
func (c *Client) sendMessageBatch(ctx context.Context, op string, params *sqs.SendMessageBatchInput, span *offload.SendSpan[types.MessageAttributeValue], optFns []func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	queueURL := aws.ToString(params.QueueUrl)
	call, optFns, err := c.call(ctx, op, queueURL, optFns)
	if err != nil {
		return nil, err
	}
	entries := make([]*offload.Entry[types.MessageAttributeValue], len(params.Entries))
	for i, e := range params.Entries {
		entries[i] = &offload.Entry[types.MessageAttributeValue]{ID: e.Id, Msg: message{Body: aws.ToString(e.MessageBody), Attrs: span.WithTraceparent(e.MessageAttributes)}}
	}
	b, err := c.core.PlanBatch(ctx, op, entries, call)
	if err != nil {
		return nil, err
	}
	in := *params
	in.Entries = make([]types.SendMessageBatchRequestEntry, 0, len(entries))
	for i, be := range b.Entries {
		e := params.Entries[i]
		e.MessageAttributes = be.Attrs
		e.MessageSystemAttributes = withTraceHeader(e.MessageSystemAttributes, span)
		switch {
		case be.Failure != nil:
			continue
		case be.Wire != nil:
			e.MessageBody, e.MessageAttributes = &be.Wire.Body, be.Wire.Attrs
			e.MessageDeduplicationId = offload.DedupID(e.MessageDeduplicationId, be.Body, func() bool { return c.queueDedup(ctx, queueURL, optFns) })
		}
		in.Entries = append(in.Entries, e)
	}
	local := failedEntries(b.Failures())
	if len(in.Entries) == 0 {
		return &sqs.SendMessageBatchOutput{Failed: local}, nil
	}
	optFns = append(slices.Clip(optFns), dropResultsWithoutID)
	out, missing, err := offload.SendBatch(ctx, c.core, op, b, c.api.SendMessageBatch, &in, optFns, tracked,
		func(out *sqs.SendMessageBatchOutput) ([]*string, []*string, *middleware.Metadata) {
			ids := make([]*string, len(out.Successful))
			for i, s := range out.Successful {
				ids[i] = s.Id
			}
			return ids, failedIDs(out.Failed), &out.ResultMetadata
		})
	if err != nil {
		return nil, err
	}
	out.Failed = append(out.Failed, failedEntries(missing)...)
	out.Failed = append(out.Failed, local...)
	return out, nil
}

// failedEntries returns fs as SQS's Failed entries.
func failedEntries(fs []offload.Failure) []types.BatchResultErrorEntry {
	var out []types.BatchResultErrorEntry
	for _, f := range fs {
		out = append(out, types.BatchResultErrorEntry{Id: f.ID, Code: aws.String(f.Code), SenderFault: f.SenderFault, Message: aws.String(f.Message)})
	}
	return out
}

// failedEntry returns the Failed entry that reports err for the entry id.
func failedEntry(id *string, code string, senderFault bool, err error) *types.BatchResultErrorEntry {
	return &types.BatchResultErrorEntry{
		Id:          id,
		Code:        aws.String(code),
		SenderFault: senderFault,
		Message:     aws.String(fmt.Sprintf("sqsx: %v", err)),
	}
}
