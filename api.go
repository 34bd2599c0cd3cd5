package sqsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sqsx/sqsx/payload"
)

// SQSAPI is an SQS client that can invoke the operations the extended client
// changes, plus GetQueueAttributes. *sqs.Client satisfies it.
//
// Client also offers every other *sqs.Client operation; it forwards them to
// the client given to New when that client has them (see
// UnsupportedOperationError).
type SQSAPI interface {
	SendMessage(ctx context.Context, params *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, params *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, params *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, params *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, params *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, params *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	GetQueueAttributes(ctx context.Context, params *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// S3API is an S3 client that can invoke PutObject, GetObject, DeleteObject and
// DeleteObjects. *s3.Client satisfies it.
type S3API = payload.S3API

var (
	_ SQSAPI = (*sqs.Client)(nil)
	_ SQSAPI = (*Client)(nil)
)
