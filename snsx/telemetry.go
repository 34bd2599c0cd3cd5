package snsx

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/telemetry"
)

// Tracing, metrics, trace propagation and the user-agent key; see
// docs/observability.md.

// resolveTelemetry fills in the providers of o from api when it is an
// *sns.Client and o names none.
func resolveTelemetry(api SNSAPI, o *Options) {
	c, ok := api.(*sns.Client)
	if !ok {
		return
	}
	if o.TracerProvider == nil {
		o.TracerProvider = c.Options().TracerProvider
	}
	if o.MeterProvider == nil {
		o.MeterProvider = c.Options().MeterProvider
	}
}

// userAgent adds the library's user-agent key to an SNS call.
func userAgent(o *sns.Options) { o.APIOptions = append(o.APIOptions, telemetry.AddUserAgent) }

// uaOnly is withUserAgent's answer to a call without options, shared so
// that such a call allocates nothing for it (the SDK only reads optFns).
var uaOnly = []func(*sns.Options){userAgent}

// withUserAgent returns optFns, in a new slice, with userAgent last.
func withUserAgent(optFns []func(*sns.Options)) []func(*sns.Options) {
	if len(optFns) == 0 {
		return uaOnly[:1:1]
	}
	return append(slices.Clip(optFns), userAgent)
}

// uaSNS is the SNS client as the Client calls it: every call carries the
// library's user-agent key.
type uaSNS struct{ api SNSAPI }

func (u uaSNS) Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return u.api.Publish(ctx, in, withUserAgent(optFns)...)
}

func (u uaSNS) PublishBatch(ctx context.Context, in *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error) {
	return u.api.PublishBatch(ctx, in, withUserAgent(optFns)...)
}

// propagate returns params with the span's trace context in a traceparent
// message attribute, when Options.PropagateTraceparent asks for it (see
// offload.SendSpan.WithTraceparent). params is not modified: a changed
// input is a copy.
func (c *Client) propagate(span *offload.SendSpan[types.MessageAttributeValue], params *sns.PublishInput) *sns.PublishInput {
	attrs := span.WithTraceparent(params.MessageAttributes)
	if len(attrs) == len(params.MessageAttributes) {
		return params
	}
	in := *params
	in.MessageAttributes = attrs
	return &in
}
