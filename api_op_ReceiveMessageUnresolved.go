package sqsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// ReceiveMessageUnresolved receives messages as ReceiveMessage does, but
// leaves offloaded payloads in S3: read them with OpenPayload, as streams.
//
// Each payload is still checked (a one-byte read: it exists, its bucket and
// key are allowed, its pointer is valid, it is not over MaxStreamSize), and a
// failed check is handled as Options.Unresolved says, as in ReceiveMessage. An offloaded message
// comes back with its pointer body and its size attribute (AttributeName or
// LegacyAttributeName, whose value is the payload's size in bytes), and with
// the receipt handle ReceiveMessage would give it, so DeleteMessage deletes
// the payload too (unless it is shared by an SNS fan-out). params is not
// modified.
func (c *Client) ReceiveMessageUnresolved(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return c.receive(ctx, params, false, optFns)
}
