package snsx

import (
	"context"

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
	if c, ok := api.(*sns.Client); ok {
		co := c.Options()
		telemetry.DefaultProviders(&o.TracerProvider, &o.MeterProvider, co.TracerProvider, co.MeterProvider)
	}
}

// uaOnly is the option that adds the library's user-agent key to an SNS
// call (see telemetry.WithUserAgent).
var uaOnly = []func(*sns.Options){func(o *sns.Options) { o.APIOptions = append(o.APIOptions, telemetry.AddUserAgent) }}

// withUserAgent returns optFns with the user-agent option last.
func withUserAgent(optFns []func(*sns.Options)) []func(*sns.Options) {
	return telemetry.WithUserAgent(optFns, uaOnly)
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
