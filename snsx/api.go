package snsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNSAPI is an SNS client that can invoke Publish and PublishBatch.
// *sns.Client satisfies it.
//
// Client also offers every other *sns.Client operation; it forwards them to
// the client given to New when that client has them (see
// UnsupportedOperationError).
type SNSAPI interface {
	Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
	PublishBatch(ctx context.Context, params *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error)
}

var (
	_ SNSAPI = (*sns.Client)(nil)
	_ SNSAPI = (*Client)(nil)
)
