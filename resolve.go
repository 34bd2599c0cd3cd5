package sqsx

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sqsx/sqsx/payload"
)

// The resolver: what ReceiveMessage, ReceiveMessageUnresolved and
// ResolveMessage do to each offloaded message they are given. A message
// carries its pointer in its body (raw: marked by a reserved attribute) or in
// the Message of an SNS envelope (delivered by SNS without raw delivery).
// With modeFetch, the payload replaces the pointer (the string variant);
// without, it is only checked, with a one-byte read (or, under
// WithoutPayloadCheck, without any), and left in S3 for OpenPayload (the
// stream variant).

// resolveMode is what the resolver does to an offloaded message.
type resolveMode int

const (
	modeFetch resolveMode = iota // read the payload in place of the pointer
	modeCheck                    // check the payload with a one-byte read
	modeClaim                    // check only what needs no request (WithoutPayloadCheck)
)

// resolver returns the function that resolves m in place or checks its
// payload, as mode says, or nil if m carries its body itself, with the
// pointer it follows and whether it came in an SNS envelope.
func (c *Client) resolver(m *types.Message, mode resolveMode) (resolve func(context.Context) error, ptr string, inEnvelope bool) {
	if isOffloaded(m) {
		ptr := aws.ToString(m.Body)
		return func(ctx context.Context) error { return c.resolve(ctx, m, ptr, nil, mode) }, ptr, false
	}
	env, ok := parseEnvelope(aws.ToString(m.Body))
	if !ok {
		return nil, "", false
	}
	return func(ctx context.Context) error { return c.resolve(ctx, m, env.Message, &env, mode) }, env.Message, true
}

// resolve resolves m, whose pointer is ptr, in its SNS envelope env if not
// nil. With modeFetch it replaces the pointer with the payload and removes
// the reserved attributes; otherwise it checks the payload. Unless the
// payload is marked as shared by an SNS fan-out (payload.FanoutMetadataKey)
// or came in an envelope, or under modeClaim (which cannot know), it also
// makes the receipt handle name the payload. On error m is left as it was.
func (c *Client) resolve(ctx context.Context, m *types.Message, ptr string, env *envelope, mode resolveMode) error {
	p, err := decodePointer(ptr)
	if err != nil {
		return err
	}
	switch mode {
	case modeCheck:
		return c.check(ctx, m, p, env)
	case modeClaim:
		return c.claim(m, p)
	}
	body, shared, err := c.store.GetShared(ctx, p)
	if err != nil {
		return err
	}
	if env != nil {
		return c.openEnvelope(m, *env, p, body)
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

// check validates the payload p of an offloaded message without reading it,
// and rewrites the receipt handle of a raw one as resolve would.
func (c *Client) check(ctx context.Context, m *types.Message, p payload.Pointer, env *envelope) error {
	info, err := c.store.Stat(ctx, p)
	if err != nil || env != nil {
		// The handle of an enveloped message stays as SQS issued it (see
		// openEnvelope).
		return err
	}
	if c.opts.MaxStreamSize > 0 && info.Size > c.opts.MaxStreamSize {
		// OpenPayload would refuse it: refuse it here, where the policy
		// applies.
		return &PayloadError{Op: "GetObject", Bucket: p.Bucket, Key: p.Key,
			Err: fmt.Errorf("%w: %d bytes, limit %d", ErrPayloadTooLarge, info.Size, c.opts.MaxStreamSize)}
	}
	nameInHandle(m, p, info.Shared)
	return nil
}

// claim validates the payload p of an offloaded message without a request:
// its bucket and key must be allowed, and the size the sender claims (its
// size attribute, if it has one) must not be over MaxStreamSize. Whether it
// exists, its real size and its checksum are left to the read, which
// enforces them. The receipt handle stays as SQS issued it: whether the
// payload is shared is known only from the read (see OpenMessagePayload).
func (c *Client) claim(m *types.Message, p payload.Pointer) error {
	if err := c.store.Check(p); err != nil {
		return &PayloadError{Op: "GetObject", Bucket: p.Bucket, Key: p.Key, Err: err}
	}
	if size := claimedSize(m); c.opts.MaxStreamSize > 0 && size > c.opts.MaxStreamSize {
		return &PayloadError{Op: "GetObject", Bucket: p.Bucket, Key: p.Key,
			Err: fmt.Errorf("%w: %d bytes claimed, limit %d", ErrPayloadTooLarge, size, c.opts.MaxStreamSize)}
	}
	return nil
}

// claimedSize returns the payload size in m's size attribute, or -1 if it
// has none that parses.
func claimedSize(m *types.Message) int64 {
	for _, name := range []string{AttributeName, LegacyAttributeName} {
		if a, ok := m.MessageAttributes[name]; ok {
			if n, err := strconv.ParseInt(aws.ToString(a.StringValue), 10, 64); err == nil && n >= 0 {
				return n
			}
		}
	}
	return -1
}

// openEnvelope puts body, the payload of an offloaded message delivered in
// the SNS envelope env, in place of its pointer, as Options.SNSEnvelope says.
// The receipt handle is left as SQS issued it: a payload published through
// SNS is shared by every subscriber, so DeleteMessage must not delete it.
func (c *Client) openEnvelope(m *types.Message, env envelope, p payload.Pointer, body string) error {
	switch c.opts.SNSEnvelope {
	case SNSEnvelopeUnwrap:
		attrs, err := envelopeAttributes(env)
		if err != nil {
			return &PayloadError{Op: "DecodePointer", Bucket: p.Bucket, Key: p.Key, Err: fmt.Errorf("%w: %w", ErrInvalidPointer, err)}
		}
		for k, v := range m.MessageAttributes {
			if !isReserved(k) {
				attrs[k] = v
			}
		}
		if len(attrs) == 0 {
			attrs = nil
		}
		m.Body, m.MessageAttributes = &body, attrs
	default:
		rewritten, err := rewriteEnvelope(aws.ToString(m.Body), body, env)
		if err != nil {
			return &PayloadError{Op: "DecodePointer", Bucket: p.Bucket, Key: p.Key, Err: fmt.Errorf("%w: %w", ErrInvalidPointer, err)}
		}
		m.Body = &rewritten
	}
	return nil
}

// isOffloaded reports whether m carries a reserved attribute.
func isOffloaded(m *types.Message) bool {
	_, a := m.MessageAttributes[AttributeName]
	_, b := m.MessageAttributes[LegacyAttributeName]
	return a || b
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

// UnresolvedCode returns the code of the reason a payload could not be
// resolved (see UnresolvedMessage.Code), for an error of ResolveMessage,
// OpenPayload or ReceiveMessage under UnresolvedFail; "" for nil.
func UnresolvedCode(err error) string {
	if err == nil {
		return ""
	}
	switch {
	case errors.Is(err, ErrAttributesChecksumMismatch):
		return CodeAttributesChecksumMismatch
	case errors.Is(err, ErrMessageIncomplete):
		return CodeMessageIncomplete
	case errors.Is(err, ErrBodyChecksumMismatch):
		return CodeBodyChecksumMismatch
	case errors.Is(err, ErrPayloadNotFound):
		return CodePayloadNotFound
	case errors.Is(err, ErrBucketNotAllowed):
		return CodeBucketNotAllowed
	case errors.Is(err, ErrKeyNotAllowed):
		return CodeKeyNotAllowed
	case errors.Is(err, ErrInvalidPointer):
		return CodeInvalidPointer
	case errors.Is(err, ErrPayloadTooLarge):
		return CodePayloadTooLarge
	case errors.Is(err, ErrChecksumMismatch):
		return CodePayloadChecksumMismatch
	}
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		// The answer could not be read, whatever its status: nothing is
		// known about the object, and the next receive may tell.
		return CodePayloadUnavailable
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied" {
		// What S3 answers for a missing key to a reader without
		// s3:ListBucket, as well as for a real lack of permission.
		return CodePayloadAccessDenied
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch code := re.HTTPStatusCode(); {
		case code == 403:
			return CodePayloadAccessDenied
		case code >= 400 && code < 500 && code != 408 && code != 429:
			return CodePayloadRejected
		}
	}
	return CodePayloadUnavailable
}

// permanent reports whether a payload that failed with code will fail the
// same way on every receive: the message itself is at fault.
func permanent(code string) bool {
	switch code {
	case CodePayloadNotFound, CodeBucketNotAllowed, CodeKeyNotAllowed, CodeInvalidPointer,
		CodePayloadTooLarge, CodePayloadRejected:
		return true
	}
	return false
}
