package sqsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx/internal/offload"
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
//
// With WithoutPayloadCheck in optFns the one-byte read is skipped; see there.
func (c *Client) ReceiveMessageUnresolved(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	mode := modeCheck
	optFns = offload.Split(optFns, withoutPayloadCheckCode, func(func(*sqs.Options)) { mode = modeClaim })
	return c.receive(ctx, params, mode, optFns)
}

// WithoutPayloadCheck returns a per-call option for ReceiveMessageUnresolved
// that saves one S3 request per offloaded message: the payloads are not
// checked with a one-byte read before the messages are handed over. What
// needs no request is still checked: the pointer is valid, its bucket and
// key are allowed, and the size the sender put in the size attribute is not
// over MaxStreamSize. Whether the payload exists, its real size and its
// checksum are then found out by the read (OpenPayload or
// OpenMessagePayload), which enforces MaxStreamSize and verifies the
// checksum as always; a payload that fails there is the caller's to handle
// (UnresolvedCode says why), where the check would have applied
// Options.Unresolved.
//
// Whether a payload is shared by an SNS fan-out is known only from its
// read, so the receipt handles are left as SQS issued them: deleting a
// message with such a handle leaves its payload to the lifecycle rule. Read
// the payload with OpenMessagePayload, which makes the handle name the
// payload once it knows it is not shared, to have DeleteMessage delete both.
//
//	out, err := client.ReceiveMessageUnresolved(ctx, in, sqsx.WithoutPayloadCheck())
//
// Given to an *sqs.Client, or to another Client method, it does nothing.
func WithoutPayloadCheck() func(*sqs.Options) { return withoutPayloadCheck }

// withoutPayloadCheck is the option WithoutPayloadCheck returns; the Client
// finds it in optFns by its code pointer.
func withoutPayloadCheck(*sqs.Options) {}

var withoutPayloadCheckCode = offload.Code(withoutPayloadCheck)
