package snsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/internal/batchplan"
	"github.com/sqsx/sqsx/internal/offload"
)

// PublishBatch publishes up to 10 messages, as [sns.Client.PublishBatch]
// does. Each entry above the threshold is offloaded to S3; then, while the
// batch's total size is over BatchSizeLimit, the largest remaining entry is
// offloaded too. Uploads run concurrently, at most Concurrency at a time.
// GetBatchOffloadMetadata(out.ResultMetadata) says what was done with each
// entry published. Offloaded entries to a FIFO topic with content-based
// deduplication get deduplication ids as in Publish.
//
// A problem with one entry (a reserved attribute, an empty message, too many
// attributes, MessageStructure "json", a failed upload) makes it a Failed
// entry with one of the payload Code constants (or CodeMessageStructureJSON),
// and the rest of the batch is still published. Payloads of entries that SNS
// reports as failed are deleted (unless an earlier attempt of the call, whose
// answer was lost, may have published them). An answer garbled on the way
// that names an entry as both successful and failed, or as neither, leaves
// the entry's payload in S3; one named as neither becomes a Failed entry with
// payload.CodeEntryResultMissing, so that it is not taken for published. If
// the SNS call itself fails, the call's uploads are handled as in Publish:
// deleted after a definite rejection, kept and named in a *payload.KeptError
// after an ambiguous failure. Requests SNS rejects as a whole (no entries,
// more than 10, repeated ids) are passed to SNS unchanged. params is not
// modified.
func (c *Client) PublishBatch(ctx context.Context, params *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	if params == nil || !batchplan.Acceptable(params.PublishBatchRequestEntries, func(e types.PublishBatchRequestEntry) *string { return e.Id }) {
		return c.api.PublishBatch(ctx, params, optFns...)
	}
	const op = "PublishBatch"
	ctx, span := c.core.StartSend(ctx, op, "publish", aws.ToString(params.TopicArn), len(params.PublishBatchRequestEntries))
	out, err := c.publishBatch(ctx, op, params, span, optFns)
	if err != nil {
		span.EndBatch(ctx, nil, err)
		return nil, err
	}
	span.EndBatch(ctx, &out.ResultMetadata, nil)
	return out, nil
}

// publishBatch is PublishBatch without its span, which the entries' trace
// context comes from.
func (c *Client) publishBatch(ctx context.Context, op string, params *sns.PublishBatchInput, span *offload.SendSpan[types.MessageAttributeValue], optFns []func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	call, optFns, err := c.call(op, optFns)
	if err != nil {
		return nil, err
	}
	entries := make([]*offload.Entry[types.MessageAttributeValue], 0, len(params.PublishBatchRequestEntries))
	for _, e := range params.PublishBatchRequestEntries {
		entries = append(entries, &offload.Entry[types.MessageAttributeValue]{ID: e.Id, Msg: message(e.Message, span.WithTraceparent(e.MessageAttributes), e.MessageStructure)})
	}
	b, err := c.core.PlanBatch(ctx, op, entries, call)
	if err != nil {
		return nil, err
	}
	topicARN := aws.ToString(params.TopicArn)
	in := *params
	in.PublishBatchRequestEntries = nil
	for i, e := range params.PublishBatchRequestEntries {
		if be := b.Entries[i]; be.Failure == nil && be.Wire == nil {
			e.MessageAttributes = be.Attrs
			in.PublishBatchRequestEntries = append(in.PublishBatchRequestEntries, e)
		} else if be.Failure == nil {
			e.Message, e.MessageAttributes = &be.Wire.Body, be.Wire.Attrs
			e.MessageDeduplicationId = offload.DedupID(e.MessageDeduplicationId, be.Body, func() bool { return c.topicDedup(ctx, topicARN, optFns) })
			in.PublishBatchRequestEntries = append(in.PublishBatchRequestEntries, e)
		}
	}
	local := failedEntries(b.Failures())
	if len(in.PublishBatchRequestEntries) == 0 {
		return &sns.PublishBatchOutput{Failed: local}, nil
	}
	out, missing, err := offload.SendBatch(ctx, c.core, op, b, c.api.PublishBatch, &in, optFns, tracked, resultIDs)
	if err != nil {
		return nil, err
	}
	out.Failed = append(out.Failed, failedEntries(missing)...)
	out.Failed = append(out.Failed, local...)
	return out, nil
}

// failedEntries returns fs as SNS's Failed entries.
func failedEntries(fs []offload.Failure) []types.BatchResultErrorEntry {
	var out []types.BatchResultErrorEntry
	for _, f := range fs {
		out = append(out, types.BatchResultErrorEntry{Id: f.ID, Code: aws.String(f.Code), SenderFault: f.SenderFault, Message: aws.String(f.Message)})
	}
	return out
}

// resultIDs returns the ids of the entries a PublishBatch output reports as
// successful and as failed, and its metadata.
func resultIDs(out *sns.PublishBatchOutput) (succeeded, failed []*string, md *middleware.Metadata) {
	for _, s := range out.Successful {
		succeeded = append(succeeded, s.Id)
	}
	for _, f := range out.Failed {
		failed = append(failed, f.Id)
	}
	return succeeded, failed, &out.ResultMetadata
}

// CodeMessageStructureJSON is the code of a Failed entry whose message has
// MessageStructure "json" and would need offloading.
const CodeMessageStructureJSON = "MessageStructureJSONTooLarge"
