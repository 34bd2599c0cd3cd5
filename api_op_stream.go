package sqsx

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// SendMessageStream sends a message whose body is read from body, of any
// length, without holding it in memory: at most the threshold is buffered to
// decide whether the message fits in SQS; beyond that the body streams to S3
// as a multipart upload (see payload.Store.PutReader for part size and
// concurrency, payload.StoreOptions.PartSize and UploadConcurrency), and the
// message is sent as a pointer. A body that fits is sent as SendMessage would.
//
// params.MessageBody must be nil; the other fields are used as SendMessage
// uses them, and the same checks apply. The body's bytes are sent as they are
// (the reference clients read payloads as UTF-8 text; other bytes reach Go
// consumers intact). A failed upload is removed (see payload.Store.PutReaderAt);
// a failed send is handled as in SendMessage.
// On a FIFO queue with content-based deduplication, the deduplication id is
// the SHA-256 of the body, computed as it streams. params is not modified.
func (c *Client) SendMessageStream(ctx context.Context, params *sqs.SendMessageInput, body io.Reader, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	const op = "SendMessageStream"
	if params == nil {
		params = &sqs.SendMessageInput{}
	}
	if params.MessageBody != nil {
		return nil, &InputError{Op: op, Field: "MessageBody", Err: errors.New("must be nil: the body is read from the reader")}
	}
	if body == nil {
		return nil, &InputError{Op: op, Field: "body", Err: ErrEmptyBody}
	}
	// The body is checked as it is read: an empty one by SendMessage below.
	if field, err := checkAttributes(params.MessageAttributes); err != nil {
		return nil, &InputError{Op: op, Field: field, Err: err}
	}
	queueURL := aws.ToString(params.QueueUrl)
	threshold, err := c.threshold(ctx, op, queueURL, optFns)
	if err != nil {
		return nil, err
	}
	// Read what could still be sent inline, plus one byte to know if more
	// follows.
	room := max(threshold-attributesSize(params.MessageAttributes), 0)
	head := make([]byte, room+1)
	n, err := io.ReadFull(body, head)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		in := *params
		in.MessageBody = aws.String(string(head[:n]))
		return c.SendMessage(ctx, &in, optFns...)
	case err != nil:
		return nil, fmt.Errorf("sqsx: %s: reading the body: %w", op, err)
	}

	if field, err := c.checkOffload(params.MessageAttributes, threshold); err != nil {
		return nil, &InputError{Op: op, Field: field, Err: err}
	}
	p, err := c.store.NewPointer(ctx)
	if err != nil {
		return nil, err
	}
	ptrBody, err := payload.EncodePointer(p)
	if err != nil {
		return nil, err
	}
	// The size is not known yet: check the wire form with the widest one.
	if err := checkWireSize(offloaded{body: ptrBody, attrs: c.withMarker(params.MessageAttributes, math.MaxInt64)}, threshold); err != nil {
		return nil, &InputError{Op: op, Field: "MessageAttributes", Err: err}
	}
	var sum hash.Hash
	src := io.MultiReader(bytes.NewReader(head), body)
	if params.MessageDeduplicationId == nil && c.contentDedup(ctx, queueURL, optFns) {
		sum = sha256.New()
		src = io.TeeReader(src, sum)
	}
	size, err := c.store.PutReaderAt(ctx, p, src)
	if err != nil {
		return nil, err
	}
	in := *params
	in.MessageBody = aws.String(ptrBody)
	in.MessageAttributes = c.withMarker(params.MessageAttributes, size)
	if sum != nil {
		in.MessageDeduplicationId = aws.String(hex.EncodeToString(sum.Sum(nil)))
	}
	var t outcome.Tracker
	return offload.Send(ctx, c.store, op, c.sqs.SendMessage, &in, optFns, tracked, &t, p)
}

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

// check validates an offloaded message's pointer and payload without reading
// it, and rewrites its receipt handle as resolve would.
func (c *Client) check(ctx context.Context, m *types.Message) error {
	p, err := decodePointer(aws.ToString(m.Body))
	if err != nil {
		return err
	}
	info, err := c.store.Stat(ctx, p)
	if err != nil {
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

// checkEnvelope validates the pointer in an SNS envelope without reading the
// payload. The handle stays as SQS issued it (see resolveEnvelope).
func (c *Client) checkEnvelope(ctx context.Context, env envelope) error {
	p, err := decodePointer(env.Message)
	if err != nil {
		return err
	}
	_, err = c.store.Stat(ctx, p)
	return err
}

// OpenPayload returns a message's body as a stream. For a message from
// ReceiveMessageUnresolved that was offloaded (its body is a pointer, or an SNS
// envelope carrying one) it streams the payload from S3, verifying its length
// and checksum as it goes (see payload.Store.Open); for any other message it
// reads the body in hand. It returns the size, or -1 if unknown. The caller
// must Close the reader.
func (c *Client) OpenPayload(ctx context.Context, m types.Message) (io.ReadCloser, int64, error) {
	p, ok, err := PayloadPointer(m)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		body := aws.ToString(m.Body)
		return io.NopCloser(strings.NewReader(body)), int64(len(body)), nil
	}
	return c.store.Open(ctx, p)
}

// PayloadPointer returns the pointer of an offloaded message as
// ReceiveMessageUnresolved hands it back (a pointer body with a size
// attribute, or an SNS envelope carrying a pointer). ok is false for a
// message that carries its body itself, including any message ReceiveMessage
// resolved. An offloaded message whose pointer is invalid gives an error
// wrapping ErrInvalidPointer.
func PayloadPointer(m types.Message) (p payload.Pointer, ok bool, err error) {
	body := aws.ToString(m.Body)
	if !isOffloaded(&m) {
		env, isEnv := parseEnvelope(body)
		if !isEnv {
			return payload.Pointer{}, false, nil
		}
		body = env.Message
	}
	if p, err = decodePointer(body); err != nil {
		return payload.Pointer{}, false, err
	}
	return p, true, nil
}
