package snsx

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/outcome"
)

// Publish publishes a message, as [sns.Client.Publish] does. A message larger
// than the threshold (or any message, with AlwaysThroughS3) has its body stored
// in S3 first and is published as a pointer with a size attribute. Subject,
// FIFO group and deduplication ids and the other fields pass through.
//
// An empty message, a reserved attribute set by the caller, more than 9
// attributes on a message to offload, or MessageStructure "json" on a message
// to offload is an *sqsx.InputError. If SNS definitely refused an offloaded
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
	body := aws.ToString(params.Message)
	if field, err := checkMessage(body, params.MessageAttributes); err != nil {
		return nil, &sqsx.InputError{Op: op, Field: field, Err: err}
	}
	if !c.offload(params.MessageStructure, messageSize(body, params.MessageAttributes)) {
		return c.sns.Publish(ctx, params, optFns...)
	}
	if field, err := c.checkOffload(params.MessageStructure, params.MessageAttributes); err != nil {
		return nil, &sqsx.InputError{Op: op, Field: field, Err: err}
	}
	off, err := c.prepareOffload(ctx, body, params.MessageAttributes)
	if errors.Is(err, sqsx.ErrAttributesTooLarge) {
		return nil, &sqsx.InputError{Op: op, Field: "MessageAttributes", Err: err}
	} else if err != nil {
		return nil, err
	}
	if err := c.store.PutAt(ctx, off.pointer, body); err != nil {
		return nil, err
	}
	in := *params
	in.Message = aws.String(off.body)
	in.MessageAttributes = off.attrs
	var t outcome.Tracker
	return offload.Send(ctx, c.store, op, c.sns.Publish, &in, optFns, tracked, &t, off.pointer)
}

// offload reports whether a message of this size is offloaded. A message with
// MessageStructure "json" is published as it is whenever it fits, even with
// AlwaysThroughS3, since it cannot be offloaded.
func (c *Client) offload(structure *string, size int64) bool {
	if size > c.opts.Threshold {
		return true
	}
	return c.opts.AlwaysThroughS3 && aws.ToString(structure) != "json"
}
