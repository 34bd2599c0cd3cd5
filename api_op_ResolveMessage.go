package sqsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ResolveMessage resolves one message in place, as ReceiveMessage resolves
// each message it receives: for a message received by other means (an AWS
// Lambda event, a plain SQS client that asked for the reserved attributes)
// it replaces the pointer body with the payload, removes the reserved
// attributes and makes the receipt handle name the payload, so that
// DeleteMessage deletes both. A message delivered by SNS without raw delivery
// is resolved as Options.SNSEnvelope says. It reports whether m was
// offloaded; a message that carries its body itself is left as it is.
//
// On error m is left as it was; UnresolvedCode(err) says why, and
// Options.Unresolved does not apply: what to do with the message is the
// caller's choice.
func (c *Client) ResolveMessage(ctx context.Context, m *types.Message) (offloaded bool, err error) {
	resolve := c.tracedResolver("", m, modeFetch)
	if resolve == nil {
		return false, nil
	}
	return true, resolve(ctx)
}
