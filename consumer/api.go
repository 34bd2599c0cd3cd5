package consumer

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
)

// API is the part of an [sqsx.Client] that a Consumer uses: receiving
// messages with their payloads left in S3, reading a payload, and the two
// batch operations through which acknowledgements and visibility changes go.
// *sqsx.Client satisfies it; tests can give a fake.
type API interface {
	ReceiveMessageUnresolved(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	OpenPayload(ctx context.Context, m types.Message) (io.ReadCloser, int64, error)
	DeleteMessageBatch(ctx context.Context, params *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, params *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

var _ API = (*sqsx.Client)(nil)

// messageOpener is what a Consumer uses, when its API has it, to receive
// without checking each payload first (sqsx.WithoutPayloadCheck): the read
// finds out what the check would have, and makes the receipt handle name the
// payload unless it is shared by an SNS fan-out. *sqsx.Client has it; with
// an API that does not (a wrapper that embeds API), each payload is checked
// at the receive, with one more S3 request.
type messageOpener interface {
	OpenMessagePayload(ctx context.Context, m *types.Message) (io.ReadCloser, int64, error)
}

var _ messageOpener = (*sqsx.Client)(nil)
