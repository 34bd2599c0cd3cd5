package sqsx

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/errgroup"

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
// A pointer into a bucket outside AllowedBuckets is never followed. Such a
// message, one whose object does not exist, one whose object is larger than
// MaxPayloadSize, and one whose body is not a valid pointer are handled as
// Options.PayloadNotFound says. Any other failure fails
// the call. params is not modified.
func (c *Client) ReceiveMessage(ctx context.Context, params *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return c.receive(ctx, params, true, optFns)
}

// receive is ReceiveMessage; with fetch false it leaves payloads in S3 (see
// ReceiveMessageUnresolved).
func (c *Client) receive(ctx context.Context, params *sqs.ReceiveMessageInput, fetch bool, optFns []func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	in := sqs.ReceiveMessageInput{}
	if params != nil {
		in = *params
	}
	in.MessageAttributeNames = withReservedNames(in.MessageAttributeNames)
	out, err := c.sqs.ReceiveMessage(ctx, &in, optFns...)
	if err != nil {
		return nil, err
	}

	var (
		mu         sync.Mutex
		unresolved []UnresolvedMessage
		drop       = make([]bool, len(out.Messages))
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Concurrency)
	for i := range out.Messages {
		m := &out.Messages[i]
		resolve := func(ctx context.Context) error { return c.resolve(ctx, m) }
		if !fetch {
			resolve = func(ctx context.Context) error { return c.check(ctx, m) }
		}
		if !isOffloaded(m) {
			env, ok := parseEnvelope(aws.ToString(m.Body))
			if !ok {
				continue
			}
			resolve = func(ctx context.Context) error { return c.resolveEnvelope(ctx, m, env) }
			if !fetch {
				resolve = func(ctx context.Context) error { return c.checkEnvelope(ctx, env) }
			}
		}
		g.Go(func() error {
			err := resolve(gctx)
			if err == nil || !unresolvable(err) {
				return err
			}
			switch c.opts.PayloadNotFound {
			case PayloadNotFoundDelete:
				if _, derr := c.sqs.DeleteMessage(gctx, &sqs.DeleteMessageInput{
					QueueUrl:      in.QueueUrl,
					ReceiptHandle: m.ReceiptHandle,
				}, optFns...); derr != nil {
					return errors.Join(err, derr)
				}
				c.opts.Logger.Warn("sqsx: deleted a message whose payload cannot be resolved",
					"messageId", aws.ToString(m.MessageId), "error", err)
				mu.Lock()
				drop[i] = true
				mu.Unlock()
			case PayloadNotFoundReturn:
				mu.Lock()
				unresolved = append(unresolved, UnresolvedMessage{MessageID: aws.ToString(m.MessageId), Err: err})
				mu.Unlock()
			default:
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if slices.Contains(drop, true) {
		kept := out.Messages[:0]
		for i, m := range out.Messages {
			if !drop[i] {
				kept = append(kept, m)
			}
		}
		out.Messages = kept
	}
	if len(unresolved) > 0 {
		// Keep the order of the messages.
		order := make(map[string]int, len(out.Messages))
		for i, m := range out.Messages {
			order[aws.ToString(m.MessageId)] = i
		}
		slices.SortFunc(unresolved, func(a, b UnresolvedMessage) int { return order[a.MessageID] - order[b.MessageID] })
		return out, &UnresolvedError{Messages: unresolved}
	}
	return out, nil
}

// resolve replaces an offloaded message's body with its payload, removes the
// reserved attributes and, unless the payload is marked as shared by an SNS
// fan-out (payload.FanoutMetadataKey), rewrites the receipt handle. On error
// m is left as it was.
func (c *Client) resolve(ctx context.Context, m *types.Message) error {
	p, err := decodePointer(aws.ToString(m.Body))
	if err != nil {
		return err
	}
	body, shared, err := c.store.GetShared(ctx, p)
	if err != nil {
		return err
	}
	m.Body = &body
	delete(m.MessageAttributes, AttributeName)
	delete(m.MessageAttributes, LegacyAttributeName)
	if len(m.MessageAttributes) == 0 {
		m.MessageAttributes = nil
	}
	nameInHandle(m, p, shared)
	return nil
}

// unresolvable reports whether err is one that PayloadNotFound governs.
func unresolvable(err error) bool {
	return errors.Is(err, ErrPayloadNotFound) || errors.Is(err, ErrBucketNotAllowed) ||
		errors.Is(err, ErrInvalidPointer) || errors.Is(err, ErrPayloadTooLarge)
}

// isOffloaded reports whether m carries a reserved attribute.
func isOffloaded(m *types.Message) bool {
	_, a := m.MessageAttributes[AttributeName]
	_, b := m.MessageAttributes[LegacyAttributeName]
	return a || b
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

// decodePointer decodes the pointer in an offloaded message's body (or SNS
// envelope), as a *PayloadError wrapping ErrInvalidPointer on failure.
func decodePointer(body string) (payload.Pointer, error) {
	p, err := payload.DecodePointer(body)
	if err != nil {
		return payload.Pointer{}, &PayloadError{Op: "DecodePointer", Err: err}
	}
	return p, nil
}

// nameInHandle makes m's receipt handle name its payload, so that
// DeleteMessage deletes both. A shared (SNS fan-out) payload keeps the plain
// handle: other subscribers still need it.
func nameInHandle(m *types.Message, p payload.Pointer, shared bool) {
	if shared {
		return
	}
	h := payload.ReceiptHandle{Original: aws.ToString(m.ReceiptHandle), Pointer: p}
	m.ReceiptHandle = aws.String(h.String())
}
