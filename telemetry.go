package sqsx

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/metrics"
	"github.com/aws/smithy-go/tracing"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/telemetry"
	"github.com/sqsx/sqsx/payload"
)

// Tracing, metrics, trace propagation and the user-agent key; see
// docs/observability.md.

// resolveTelemetry fills in the providers of o from api when it is an
// *sqs.Client and o names none.
func resolveTelemetry(api SQSAPI, o *Options) {
	if c, ok := api.(*sqs.Client); ok {
		co := c.Options()
		telemetry.DefaultProviders(&o.TracerProvider, &o.MeterProvider, co.TracerProvider, co.MeterProvider)
	}
}

// uaOnly is the option that adds the library's user-agent key to an SQS
// call (see telemetry.WithUserAgent).
var uaOnly = []func(*sqs.Options){func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, telemetry.AddUserAgent) }}

// withUserAgent returns optFns with the user-agent option last.
func withUserAgent(optFns []func(*sqs.Options)) []func(*sqs.Options) {
	return telemetry.WithUserAgent(optFns, uaOnly)
}

// uaSQS is the SQS client as the Client calls it: every call carries the
// library's user-agent key.
type uaSQS struct{ api SQSAPI }

func (u uaSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return u.api.SendMessage(ctx, in, withUserAgent(optFns)...)
}

func (u uaSQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	return u.api.SendMessageBatch(ctx, in, withUserAgent(optFns)...)
}

func (u uaSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	return u.api.ReceiveMessage(ctx, in, withUserAgent(optFns)...)
}

func (u uaSQS) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	return u.api.DeleteMessage(ctx, in, withUserAgent(optFns)...)
}

func (u uaSQS) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	return u.api.DeleteMessageBatch(ctx, in, withUserAgent(optFns)...)
}

func (u uaSQS) ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	return u.api.ChangeMessageVisibility(ctx, in, withUserAgent(optFns)...)
}

func (u uaSQS) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	return u.api.ChangeMessageVisibilityBatch(ctx, in, withUserAgent(optFns)...)
}

func (u uaSQS) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return u.api.GetQueueAttributes(ctx, in, withUserAgent(optFns)...)
}

// propagate returns params with the trace context of span: in the
// AWSTraceHeader system attribute unless the caller set one, and, with
// PropagateTraceparent, in a traceparent message attribute (see
// offload.SendSpan.WithTraceparent). params is not modified: a changed
// input is a copy.
func propagate(span *offload.SendSpan[types.MessageAttributeValue], params *sqs.SendMessageInput) *sqs.SendMessageInput {
	if !span.Trace.Valid() {
		return params
	}
	in := *params
	in.MessageSystemAttributes = withTraceHeader(params.MessageSystemAttributes, span)
	in.MessageAttributes = span.WithTraceparent(params.MessageAttributes)
	return &in
}

// withTraceHeader returns sys plus an AWSTraceHeader carrying span's
// context, in a new map, unless sys has one.
func withTraceHeader(sys map[string]types.MessageSystemAttributeValue, span *offload.SendSpan[types.MessageAttributeValue]) map[string]types.MessageSystemAttributeValue {
	if _, ok := sys[telemetry.AWSTraceHeader]; ok || !span.Trace.Valid() {
		return sys
	}
	out := make(map[string]types.MessageSystemAttributeValue, len(sys)+1)
	maps.Copy(out, sys)
	out[telemetry.AWSTraceHeader] = types.MessageSystemAttributeValue{DataType: aws.String("String"), StringValue: aws.String(span.Trace.XRay())}
	return out
}

// receiveSpan is the span of one receive call.
type receiveSpan struct{ span telemetry.Span }

// startReceive starts the span of a receive from in.QueueUrl and, when
// tracing is on, asks SQS in in (a copy of the caller's input; its slices
// are replaced, not changed) for the trace context the messages carry: the
// AWSTraceHeader system attribute and the traceparent message attribute.
func (c *Client) startReceive(ctx context.Context, in *sqs.ReceiveMessageInput) (context.Context, receiveSpan) {
	if !c.core.Tracer.Enabled() {
		return ctx, receiveSpan{}
	}
	if !slices.Contains(in.MessageSystemAttributeNames, types.MessageSystemAttributeNameAll) &&
		!slices.Contains(in.MessageSystemAttributeNames, types.MessageSystemAttributeNameAWSTraceHeader) {
		in.MessageSystemAttributeNames = append(slices.Clip(in.MessageSystemAttributeNames), types.MessageSystemAttributeNameAWSTraceHeader)
	}
	if names := in.MessageAttributeNames; !slices.Contains(names, "All") && !slices.Contains(names, ".*") &&
		!slices.Contains(names, telemetry.TraceparentAttribute) {
		in.MessageAttributeNames = append(slices.Clip(names), telemetry.TraceparentAttribute)
	}
	dest := offload.Destination(aws.ToString(in.QueueUrl))
	ctx, span := c.core.Tracer.Start(ctx, "receive "+dest, tracing.SpanKindClient,
		telemetry.AttrSystem, telemetry.SystemSQS, telemetry.AttrDestination, dest,
		telemetry.AttrOperationName, "receive", telemetry.AttrOperationType, telemetry.OpTypeReceive)
	return ctx, receiveSpan{span}
}

// end ends the span of a receive that returned out and err.
func (s receiveSpan) end(out *sqs.ReceiveMessageOutput, err error) {
	if out != nil {
		s.span.Int(telemetry.AttrBatchCount, int64(len(out.Messages)))
	}
	s.span.EndErr(err, UnresolvedCode)
}

// messageTrace returns the trace context m carries: its AWSTraceHeader
// system attribute, else its traceparent message attribute.
func messageTrace(m *types.Message) (telemetry.Context, bool) {
	var tp string
	if v, ok := m.MessageAttributes[telemetry.TraceparentAttribute]; ok {
		tp = aws.ToString(v.StringValue)
	}
	return telemetry.FromMessage(m.Attributes[telemetry.AWSTraceHeader], tp)
}

// tracedResolver is resolver, with a span around each resolution, linked
// to the producer's trace when the message carries one, and the failures
// counted. queueURL is where m was received from.
func (c *Client) tracedResolver(queueURL string, m *types.Message, mode resolveMode) func(context.Context) error {
	resolve, ptr, env := c.resolver(m, mode)
	if resolve == nil || (!c.core.Tracer.Enabled() && c.core.Metrics == nil) {
		return resolve
	}
	return func(ctx context.Context) error {
		props := []any{telemetry.AttrMessageID, aws.ToString(m.MessageId), telemetry.AttrSNSEnvelope, env}
		if tc, ok := messageTrace(m); ok {
			props = append(props, telemetry.AttrLinkTraceparent, tc.Traceparent())
		}
		ctx, span := c.core.Tracer.Start(ctx, telemetry.SpanResolve, tracing.SpanKindInternal, props...)
		if span.Recording() {
			if p, err := payload.DecodePointer(ptr); err == nil {
				span.Str(telemetry.AttrBucket, p.Bucket)
				span.Str(telemetry.AttrKey, p.Key)
			}
		}
		err := resolve(ctx)
		if err != nil {
			code := UnresolvedCode(err)
			span.Str(telemetry.AttrResolution, code)
			span.Fail(err, code)
			c.core.Metrics.ResolveFailed(ctx, offload.Destination(queueURL), code)
		} else if mode == modeFetch {
			span.Str(telemetry.AttrResolution, telemetry.ResolutionResolved)
			span.Int(telemetry.AttrPayloadBytes, int64(len(aws.ToString(m.Body))))
		} else {
			span.Str(telemetry.AttrResolution, telemetry.ResolutionChecked)
		}
		span.End()
		return err
	}
}

// deleteSpan is the span of one delete call.
type deleteSpan struct {
	c    *Client
	op   string
	span telemetry.Span
}

// startDelete starts the span of op, a delete of n messages (0: one) from
// queueURL.
func (c *Client) startDelete(ctx context.Context, op, queueURL string, n int) (context.Context, deleteSpan) {
	s := deleteSpan{c: c, op: op}
	if !c.core.Tracer.Enabled() {
		return ctx, s
	}
	dest := offload.Destination(queueURL)
	ctx, s.span = c.core.Tracer.Start(ctx, "delete "+dest, tracing.SpanKindClient,
		telemetry.AttrSystem, telemetry.SystemSQS, telemetry.AttrDestination, dest,
		telemetry.AttrOperationName, "delete", telemetry.AttrOperationType, telemetry.OpTypeSettle,
		telemetry.AttrOperation, op)
	if n > 0 {
		s.span.Int(telemetry.AttrBatchCount, int64(n))
	}
	return ctx, s
}

// end ends the span of a delete that returned err, and counts the payloads
// it left in S3: those a *payload.KeptError names, and one per
// *PayloadError (a payload whose deletion failed after its message's).
func (s deleteSpan) end(ctx context.Context, err error) {
	if err != nil && s.c.core.Metrics != nil {
		kept, failed := orphans(err)
		s.c.core.Metrics.Orphans(ctx, s.op, kept, true)
		s.c.core.Metrics.Orphans(ctx, s.op, failed, false)
	}
	s.span.EndErr(err, offload.ErrorType)
}

// orphans returns the number of payloads err says were kept on purpose
// (ambiguous KeptErrors) and left otherwise (other KeptErrors, and
// PayloadErrors of failed deletions).
func orphans(err error) (kept, failed int) {
	var ke *payload.KeptError
	var pe *PayloadError
	switch {
	case errors.As(err, &ke) && ke == err:
		if ke.Ambiguous {
			return len(ke.Pointers), 0
		}
		return 0, len(ke.Pointers)
	case errors.As(err, &pe) && pe == err:
		if pe.Op == "DeleteObject" || pe.Op == "DeleteObjects" {
			return 0, 1
		}
		return 0, 0
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			k, f := orphans(e)
			kept, failed = kept+k, failed+f
		}
	}
	return kept, failed
}

// TracerProvider returns the provider the client traces with:
// Options.TracerProvider, or the SQS client's by default; nil for none.
// The consumer package takes it as its default.
func (c *Client) TracerProvider() tracing.TracerProvider { return c.opts.TracerProvider }

// MeterProvider returns the provider the client measures with:
// Options.MeterProvider, or the SQS client's by default; nil for none.
func (c *Client) MeterProvider() metrics.MeterProvider { return c.opts.MeterProvider }
