package snsx

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/payload"
)

// Publish publishes a message, as [sns.Client.Publish] does. A message larger
// than the threshold (or any message, with AlwaysThroughS3) has its body stored
// in S3 first and is published as a pointer with a size attribute.
// GetOffloadMetadata(out.ResultMetadata) says which it was. Subject, FIFO
// group and deduplication ids and the other fields pass through; an
// offloaded message to a FIFO topic with content-based deduplication and no
// deduplication id gets the SHA-256 of its body as its id, what SNS would
// have computed from the body (the topic's attribute is read once, with
// GetTopicAttributes when the SNS client has it).
//
// An empty message, a reserved attribute set by the caller, more than 9
// attributes on a message to offload, or MessageStructure "json" on a message
// to offload is an *payload.InputError. If SNS definitely refused an offloaded
// message (a 4xx, or no request written), its S3 object is deleted before the
// error is returned; after an ambiguous failure (a 5xx, a reset or timeout
// after the request was written) SNS may have delivered it, so the object is
// kept and the error is a *payload.KeptError naming it. params is not
// modified.
func (c *Client) Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	const op = "Publish"
	if params == nil {
		params = &sns.PublishInput{}
	}
	ctx, span := c.core.StartSend(ctx, op, "publish", aws.ToString(params.TopicArn), 0)
	out, err := c.publish(ctx, op, c.propagate(span, params), optFns)
	if err != nil {
		span.End(ctx, nil, nil, err)
		return nil, err
	}
	span.End(ctx, &out.ResultMetadata, out.MessageId, nil)
	return out, nil
}

// publish is Publish without its span.
func (c *Client) publish(ctx context.Context, op string, params *sns.PublishInput, optFns []func(*sns.Options)) (*sns.PublishOutput, error) {
	m := message(params.Message, params.MessageAttributes, params.MessageStructure)
	if err := c.core.Check(op, m); err != nil {
		return nil, err
	}
	call, optFns, err := c.call(op, optFns)
	if err != nil {
		return nil, err
	}
	return c.publishOp(op, params).Send(ctx, c.core, m, call, optFns, c.contentDedup(ctx, params, optFns))
}

// publishOp is SNS Publish, as package offload drives it, for params under
// the name op.
func (c *Client) publishOp(op string, params *sns.PublishInput) offload.Op[types.MessageAttributeValue, *sns.PublishInput, *sns.PublishOutput, sns.Options] {
	return offload.Op[types.MessageAttributeValue, *sns.PublishInput, *sns.PublishOutput, sns.Options]{
		Name: op, Call: c.api.Publish, Install: tracked,
		Metadata: func(out *sns.PublishOutput) *middleware.Metadata { return &out.ResultMetadata },
		Input: func(w *offload.Wire[types.MessageAttributeValue], dedupID *string) *sns.PublishInput {
			if w == nil {
				return params
			}
			in := *params
			in.Message, in.MessageAttributes, in.MessageDeduplicationId = &w.Body, w.Attrs, cmp.Or(dedupID, params.MessageDeduplicationId)
			return &in
		},
	}
}

// contentDedup returns whether an offloaded message published with params
// takes the SHA-256 of its body as its deduplication id: it has none, and
// its topic is a FIFO topic that deduplicates by content.
func (c *Client) contentDedup(ctx context.Context, params *sns.PublishInput, optFns []func(*sns.Options)) func() bool {
	return func() bool {
		return params.MessageDeduplicationId == nil && c.topicDedup(ctx, aws.ToString(params.TopicArn), optFns)
	}
}

// PublishStream publishes the body read from body as Publish publishes
// params.Message (which must be nil; params is not modified), holding at most
// the threshold in memory: a longer body streams to S3, as in sqsx's
// SendMessageStream, its SHA-256 computed on the way for a FIFO topic that
// deduplicates by content. A body with MessageStructure "json" must fit in
// SNS. GetOffloadMetadata(out.ResultMetadata) says what was done.
func (c *Client) PublishStream(ctx context.Context, params *sns.PublishInput, body io.Reader, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	const op = "PublishStream"
	if params == nil {
		params = &sns.PublishInput{}
	}
	ctx, span := c.core.StartSend(ctx, op, "publish", aws.ToString(params.TopicArn), 0)
	out, err := c.publishStream(ctx, op, c.propagate(span, params), body, optFns)
	if err != nil {
		span.End(ctx, nil, nil, err)
		return nil, err
	}
	span.End(ctx, &out.ResultMetadata, out.MessageId, nil)
	return out, nil
}

// publishStream is PublishStream without its span.
func (c *Client) publishStream(ctx context.Context, op string, params *sns.PublishInput, body io.Reader, optFns []func(*sns.Options)) (*sns.PublishOutput, error) {
	call, snsOptFns, err := c.call(op, optFns)
	if err != nil {
		return nil, err
	}
	if err := c.core.CheckStream(op, params.Message != nil, body, params.MessageAttributes); err != nil {
		return nil, err
	}
	inline := func(body string) (*sns.PublishOutput, error) {
		in := *params
		in.Message = aws.String(body)
		return c.publish(ctx, "Publish", &in, optFns)
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
