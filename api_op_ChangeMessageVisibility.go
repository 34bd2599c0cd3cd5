package sqsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/payload"
)

// ChangeMessageVisibility changes a message's visibility timeout, as
// [sqs.Client.ChangeMessageVisibility] does, sending SQS the original receipt
// handle of an offloaded message. params is not modified.
func (c *Client) ChangeMessageVisibility(ctx context.Context, params *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	if params == nil {
		return c.api.ChangeMessageVisibility(ctx, params, optFns...)
	}
	h, err := payload.ParseReceiptHandle(aws.ToString(params.ReceiptHandle))
	if err != nil {
		return nil, &InputError{Op: "ChangeMessageVisibility", Field: "ReceiptHandle", Err: err}
	}
	if !h.HasPointer() {
		return c.api.ChangeMessageVisibility(ctx, params, optFns...)
	}
	in := *params
	in.ReceiptHandle = aws.String(h.Original)
	return c.api.ChangeMessageVisibility(ctx, &in, optFns...)
}

// ChangeMessageVisibilityBatch changes the visibility timeout of up to 10
// messages, as [sqs.Client.ChangeMessageVisibilityBatch] does, sending SQS the
// original receipt handles. An entry with a malformed handle becomes a Failed
// entry (CodeInvalidReceiptHandle) and is not sent. params is not modified.
func (c *Client) ChangeMessageVisibilityBatch(ctx context.Context, params *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	if params == nil || len(params.Entries) == 0 {
		return c.api.ChangeMessageVisibilityBatch(ctx, params, optFns...)
	}
	in := *params
	in.Entries = make([]types.ChangeMessageVisibilityBatchRequestEntry, 0, len(params.Entries))
	var local []types.BatchResultErrorEntry
	for _, e := range params.Entries {
		h, err := payload.ParseReceiptHandle(aws.ToString(e.ReceiptHandle))
		if err != nil {
			local = append(local, *failedEntry(e.Id, CodeInvalidReceiptHandle, true, err))
			continue
		}
		e.ReceiptHandle = aws.String(h.Original)
		in.Entries = append(in.Entries, e)
	}
	if len(in.Entries) == 0 {
		return &sqs.ChangeMessageVisibilityBatchOutput{Failed: local}, nil
	}
	out, err := c.api.ChangeMessageVisibilityBatch(ctx, &in, optFns...)
	if err != nil {
		return nil, err
	}
	out.Failed = append(out.Failed, local...)
	return out, nil
}
