package snsx

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/payload"
)

// PublishStream publishes a message whose body is read from body, of any
// length, without holding it in memory, as sqsx's SendMessageStream sends
// one: at most the threshold is buffered to decide whether the message fits
// in SNS; beyond that the body streams to S3 as a multipart upload (see
// payload.Store.PutReaderAt) and the message is published as a pointer. A
// body that fits is published as Publish would.
// GetOffloadMetadata(out.ResultMetadata) says which it was.
//
// params.Message must be nil; the other fields are used as Publish uses
// them, and the same checks apply (a message with MessageStructure "json"
// must fit in SNS). A failed upload is removed; a failed publish is handled
// as in Publish. On a FIFO topic with content-based deduplication, the
// deduplication id is the SHA-256 of the body, computed as it streams.
// params is not modified.
func (c *Client) PublishStream(ctx context.Context, params *sns.PublishInput, body io.Reader, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	const op = "PublishStream"
	if params == nil {
		params = &sns.PublishInput{}
	}
	if params.Message != nil {
		return nil, &payload.InputError{Op: op, Field: "Message", Err: errors.New("must be nil: the body is read from the reader")}
	}
	if body == nil {
		return nil, &payload.InputError{Op: op, Field: "body", Err: payload.ErrEmptyBody}
	}
	// The body is checked as it is read: an empty one by Publish below.
	if field, err := offload.CheckAttributes(params.MessageAttributes); err != nil {
		return nil, &payload.InputError{Op: op, Field: field, Err: err}
	}
	call, snsOptFns, err := c.call(op, optFns)
	if err != nil {
		return nil, err
	}
	inline := func(body string) (*sns.PublishOutput, error) {
		in := *params
		in.Message = aws.String(body)
		return c.Publish(ctx, &in, optFns...)
	}
	if aws.ToString(params.MessageStructure) == "json" {
		// It cannot be offloaded: read what SNS could take, and let Publish
		// decide.
		b, err := io.ReadAll(io.LimitReader(body, MaxMessageSize+1))
		if err != nil {
			return nil, fmt.Errorf("snsx: %s: reading the body: %w", op, err)
		}
		if len(b) > MaxMessageSize {
			return nil, &payload.InputError{Op: op, Field: "MessageStructure", Err: ErrMessageStructureJSON}
		}
		return inline(string(b))
	}
	return c.publishOp(op, params).SendStream(ctx, c.core, body, params.MessageAttributes, call, snsOptFns, c.contentDedup(ctx, params, snsOptFns), inline)
}
