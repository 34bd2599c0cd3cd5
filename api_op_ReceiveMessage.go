package sqsx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/errgroup"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/telemetry"
	"github.com/sqsx/sqsx/payload"
)

// ReceiveMessage receives messages, as [sqs.Client.ReceiveMessage] does, and
// replaces the body of each offloaded message with its payload from S3. The
// payloads are fetched concurrently, at most Concurrency at a time.
//
// It asks SQS for both reserved attributes (unless params already asks for
// "All" or ".*"), detects offloaded messages by them, and removes them from
// the messages it returns. Messages delivered by SNS without raw delivery,
// whose body is an SNS envelope carrying a pointer, are resolved too, as
// Options.SNSEnvelope says; their receipt handles are left unchanged, so that
// deleting such a message never deletes the payload its topic's other
// subscribers read. The receipt handle of a resolved message also names
// its payload, so that DeleteMessage can delete both; pass it back unchanged.
// A payload marked as shared by the subscribers of an SNS topic (see package
// snsx) is not named in the handle, so that no subscriber deletes it.
//
// Each message is resolved on its own: one whose payload cannot be read (it
// does not exist, its pointer is invalid or names an object outside
// AllowedBuckets and AllowedKeyPrefixes, it is larger than MaxPayloadSize, S3
// refuses or fails to serve it, or ctx ends first) never fails or delays the
// others. What becomes of it is Options.Unresolved's choice; by default
// (UnresolvedIsolate) it stays in the queue, out of the output, until its
// redrive policy moves it to the dead-letter queue, except that a message
// whose payload no longer exists is deleted as the duplicate of one already
// processed. GetUnresolvedMessages(out.ResultMetadata) lists every such
// message with what was done. params is not modified.
func (c *Client) ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return c.receive(ctx, params, modeFetch, optFns)
}

// receive is ReceiveMessage under modeFetch; under the other modes it
// leaves payloads in S3 (see ReceiveMessageUnresolved).
func (c *Client) receive(ctx context.Context, params *sqs.ReceiveMessageInput, mode resolveMode, optFns []func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	in := sqs.ReceiveMessageInput{}
	if params != nil {
		in = *params
	}
	ctx, span := c.startReceive(ctx, &in)
	out, err := c.receiveMessages(ctx, &in, mode, optFns)
	span.end(out, err)
	return out, err
}

// receiveMessages is receive without its span, for in, which it may change.
func (c *Client) receiveMessages(ctx context.Context, in *sqs.ReceiveMessageInput, mode resolveMode, optFns []func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	in.MessageAttributeNames = withReservedNames(in.MessageAttributeNames)
	perMessage, checkBodies := bodyChecksPerMessage()
	out, err := c.api.ReceiveMessage(ctx, in, append(slices.Clip(optFns), perMessage)...)
	if err != nil {
		return nil, err
	}

	// errs[i] is why message i could not be resolved; each goroutine writes
	// only its own.
	errs := make([]error, len(out.Messages))
	received := make([]types.Message, len(out.Messages))
	copy(received, out.Messages)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.core.Concurrency)
	for i := range out.Messages {
		if errs[i] = checkReceived(&out.Messages[i], checkBodies()); errs[i] != nil {
			c.core.Metrics.ResolveFailed(ctx, offload.Destination(aws.ToString(in.QueueUrl)), UnresolvedCode(errs[i]))
			if c.opts.Unresolved == UnresolvedFail {
				return nil, errs[i]
			}
			continue
		}
		resolve := c.tracedResolver(aws.ToString(in.QueueUrl), &out.Messages[i], mode)
		if resolve == nil {
			continue
		}
		g.Go(func() error {
			errs[i] = resolve(gctx)
			if errs[i] != nil && c.opts.Unresolved == UnresolvedFail {
				return errs[i] // Strict: the first failure fails the call.
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return c.settle(ctx, in, out, received, errs, optFns)
}

// settle applies Options.Unresolved to the messages of out that failed to
// resolve (errs[i] != nil; received[i] is message i as SQS sent it) and
// records them in out's metadata.
func (c *Client) settle(ctx context.Context, in *sqs.ReceiveMessageInput, out *sqs.ReceiveMessageOutput,
	received []types.Message, errs []error, optFns []func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	var unresolved []UnresolvedMessage
	var toDelete []int // indexes into unresolved
	keep := out.Messages[:0]
	for i, m := range out.Messages {
		if errs[i] == nil {
			keep = append(keep, m)
			continue
		}
		u := UnresolvedMessage{MessageID: aws.ToString(m.MessageId), Message: received[i], Code: UnresolvedCode(errs[i]), Err: errs[i]}
		switch {
		case c.opts.Unresolved == UnresolvedReturn:
			u.Action = UnresolvedReturned
			keep = append(keep, received[i])
		case c.opts.Unresolved == UnresolvedIsolate && u.Code == CodePayloadNotFound,
			c.opts.Unresolved == UnresolvedDelete && permanent(u.Code):
			u.Action = UnresolvedDeleted
			toDelete = append(toDelete, len(unresolved))
		default:
			u.Action = UnresolvedLeft
		}
		unresolved = append(unresolved, u)
	}
	out.Messages = keep
	if len(unresolved) == 0 {
		return out, nil
	}
	c.deleteUnresolved(ctx, in.QueueUrl, unresolved, toDelete, optFns)
	for _, u := range unresolved {
		c.core.Logger.WarnContext(ctx, "sqsx: a received message's payload could not be resolved",
			telemetry.AttrDestination, offload.Destination(aws.ToString(in.QueueUrl)), telemetry.AttrMessageID, u.MessageID,
			telemetry.AttrErrorType, u.Code, telemetry.AttrOutcome, u.Action.String(), "error", u.Err)
	}
	out.ResultMetadata.Set(unresolvedKey{}, unresolved)
	if c.opts.Unresolved == UnresolvedReturn {
		return out, &UnresolvedError{Messages: unresolved}
	}
	return out, nil
}

// deleteUnresolved deletes the messages unresolved[toDelete[...]] from the
// queue with one DeleteMessageBatch, even if ctx is done (they are not handed
// back, so nothing else would). One that is not deleted is marked
// UnresolvedLeft, with the reason joined to its Err: it comes back after its
// visibility timeout.
func (c *Client) deleteUnresolved(ctx context.Context, queueURL *string, unresolved []UnresolvedMessage, toDelete []int, optFns []func(*sqs.Options)) {
	if len(toDelete) == 0 {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), payload.CleanupTimeout)
	defer cancel()
	in := &sqs.DeleteMessageBatchInput{QueueUrl: queueURL}
	for n, i := range toDelete {
		in.Entries = append(in.Entries, types.DeleteMessageBatchRequestEntry{
			Id:            aws.String(strconv.Itoa(n)),
			ReceiptHandle: unresolved[i].Message.ReceiptHandle,
		})
	}
	failed := map[int]error{}
	dout, err := c.api.DeleteMessageBatch(dctx, in, optFns...)
	if err != nil {
		for n := range toDelete {
			failed[n] = err
		}
	} else if dout != nil {
		for _, f := range dout.Failed {
			n, _ := strconv.Atoi(aws.ToString(f.Id))
			failed[n] = fmt.Errorf("DeleteMessageBatch entry failed: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	for n, derr := range failed {
		if n < 0 || n >= len(toDelete) {
			continue
		}
		u := &unresolved[toDelete[n]]
		u.Action = UnresolvedLeft
		u.Err = errors.Join(u.Err, fmt.Errorf("sqsx: deleting the unresolvable message: %w", derr))
	}
}

// withReservedNames returns names plus both reserved names, in a new slice,
// unless names already asks for all attributes.
func withReservedNames(names []string) []string {
	if slices.Contains(names, "All") || slices.Contains(names, ".*") {
		return names
	}
	out := make([]string, len(names), len(names)+2)
	copy(out, names)
	for _, r := range []string{AttributeName, LegacyAttributeName} {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
