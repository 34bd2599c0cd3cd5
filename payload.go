package sqsx

import (
	"context"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/payload"
)

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

// OpenMessagePayload is OpenPayload for a message received with
// WithoutPayloadCheck: once S3 has answered, it also makes m's receipt
// handle name the payload, as the check would have, so that DeleteMessage
// deletes both. A payload shared by an SNS fan-out, or delivered in an SNS
// envelope, is never named: the handle stays as SQS issued it. A handle that
// already names a payload is left as it is. On error m is not changed.
func (c *Client) OpenMessagePayload(ctx context.Context, m *types.Message) (io.ReadCloser, int64, error) {
	p, ok, err := PayloadPointer(*m)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		body := aws.ToString(m.Body)
		return io.NopCloser(strings.NewReader(body)), int64(len(body)), nil
	}
	rc, n, shared, err := c.store.OpenShared(ctx, p)
	if err != nil {
		return nil, 0, err
	}
	if h, err := payload.ParseReceiptHandle(aws.ToString(m.ReceiptHandle)); isOffloaded(m) && err == nil && !h.HasPointer() {
		nameInHandle(m, p, shared)
	}
	return rc, n, nil
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
