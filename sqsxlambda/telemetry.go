package sqsxlambda

import (
	"context"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/smithy-go/tracing"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/telemetry"
)

// startProcess starts the process span of record r, through the client's
// TracerProvider: the producer's trace context, from the record's
// AWSTraceHeader attribute (which Lambda passes on) or traceparent message
// attribute, is linked, and is the parent when ctx holds no span.
func (p *processor) startProcess(ctx context.Context, r *events.SQSMessage) (context.Context, telemetry.Span) {
	if !p.tracer.Enabled() {
		return ctx, telemetry.Span{}
	}
	dest := offload.Destination(strings.ReplaceAll(r.EventSourceARN, ":", "/"))
	props := []any{telemetry.AttrSystem, telemetry.SystemSQS, telemetry.AttrDestination, dest,
		telemetry.AttrOperationName, "process", telemetry.AttrOperationType, telemetry.OpTypeProcess,
		telemetry.AttrMessageID, r.MessageId}
	var tp string
	if a, ok := r.MessageAttributes[telemetry.TraceparentAttribute]; ok && a.StringValue != nil {
		tp = *a.StringValue
	}
	if c, ok := telemetry.FromMessage(r.Attributes[telemetry.AWSTraceHeader], tp); ok {
		props = append(props, telemetry.AttrLinkTraceparent, c.Traceparent())
	}
	return p.tracer.Start(ctx, "process "+dest, tracing.SpanKindConsumer, props...)
}

// endProcess ends the process span of a record with its outcome.
func (p *processor) endProcess(span telemetry.Span, o outcome) {
	span.Str(telemetry.AttrOutcome, o.Outcome.String())
	span.Bool(telemetry.AttrOffloaded, o.Offloaded)
	if o.Err != nil {
		code := o.Code
		if code == "" {
			code = "handler"
		}
		span.Fail(o.Err, code)
	}
	span.End()
}
